package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
)

// sinkRunner owns one built sink: its routes, policies and telemetry, and
// the consumer that feeds it (consume). Live delivery, redrive and replay
// all deliver through its deliver method.
type sinkRunner struct {
	name   string
	spec   SinkSpec
	sink   Sink
	routes *sinkRoutes
	allRts []RouteSpec // for the throttles, built afresh by each consume
	retry  RetryConfig
	batch  BatchConfig
	log    *slog.Logger
	clock  Clock
	tel    *telemetry
	attrs  metric.MeasurementOption
	// journal and state are nil in a replay, which neither commits nor
	// keeps state.
	journal Journal
	state   *MemoryState

	// throttles belong to the running consumer (rebuilt at each start).
	throttles *sinkThrottles
	// next is the next sequence the sink has not yet handled, for lag.
	next atomic.Uint64
	// oldestPending is the append time (unix nanos) of the oldest record
	// read but not yet handled, 0 when caught up; for the lag age gauge.
	oldestPending atomic.Int64
	// hub signals completions to DeliveryWatch (see completion.go).
	hub *completionHub
	// taps observe the live consumer (nil in a replay); counts are the
	// sink's totals for Status.
	taps   *tapHub
	counts *sinkCounters
}

// reservedStatePrefix starts the consumer-state keys the runner keeps for
// itself (OrphanedSinceKey); sinks never see them.
const reservedStatePrefix = "sluice."

// newSinkRunner builds ks's sink with its factory. With j set (live
// delivery), the sink's state is loaded from the journal first and handed
// to the factory in Settings.State.
func newSinkRunner(ctx context.Context, ks SinkSpec, spec *Spec, regs Registries, j Journal, set Settings, tel *telemetry, match *matchErrors) (*sinkRunner, error) {
	retry, batch, err := sinkPolicies(&ks)
	if err != nil {
		return nil, err
	}
	f, ok := regs.Sinks.Lookup(ks.Type)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, ks.Type)
	}
	ksSet := set.For("sink", ks.Name)
	s := &sinkRunner{
		name: ks.Name, spec: ks, routes: newSinkRoutes(ks.Name, spec.Routes, match), allRts: spec.Routes,
		retry: retry, batch: batch, log: ksSet.Logger, clock: set.Clock, tel: tel, journal: j, hub: newCompletionHub(ks.Name),
		attrs: sinkAttrs(ks.Name, ks.Type), counts: &sinkCounters{},
	}
	if j != nil {
		initial, err := j.ConsumerState(ctx, ks.Name)
		if err != nil {
			return nil, fmt.Errorf("load state: %w", err)
		}
		maps.DeleteFunc(initial, func(k string, _ []byte) bool { return strings.HasPrefix(k, reservedStatePrefix) })
		s.state = NewMemoryState(initial)
		ksSet.State = s.state
	}
	s.throttles = newSinkThrottles(ks.Throttle, spec.Routes, ks.Name)
	err = guard(s.log, "sink "+ks.Name+" factory", func() error {
		var err error
		s.sink, err = f.NewSink(ctx, ksSet, ks.Config)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// start calls the sink's Start, bounded by timeout.
func (s *sinkRunner) start(ctx context.Context) error {
	return guard(s.log, "sink "+s.name+" start", func() error { return s.sink.Start(ctx) })
}

// close calls the sink's Close.
func (s *sinkRunner) close(ctx context.Context) error {
	return guard(s.log, "sink "+s.name+" close", func() error { return s.sink.Close(ctx) })
}
