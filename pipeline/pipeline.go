package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// DefaultShutdownTimeout bounds shutdown when Spec.ShutdownTimeout is zero.
const DefaultShutdownTimeout = 30 * time.Second

// Pipeline is a built, runnable set of sources, sinks and routes over one
// journal. Build it with New and run it once with Run.
type Pipeline struct {
	spec    Spec
	journal Journal
	set     Settings
	tel     *telemetry

	sources []*sourceRunner
	sinks   []*sinkRunner

	ready        atomic.Bool
	lastAppended atomic.Uint64
}

// sourceRunner is one built source with its host.
type sourceRunner struct {
	name   string
	source Source
	host   *sourceHost
}

// New builds every source and sink of spec with the factories in regs. It
// does not start anything. The journal stays owned by the caller, which
// closes it after Run returns.
func New(ctx context.Context, spec Spec, regs Registries, j Journal, set Settings) (*Pipeline, error) {
	set = set.WithDefaults()
	if spec.ShutdownTimeout <= 0 {
		spec.ShutdownTimeout = DefaultShutdownTimeout
	}
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	p := &Pipeline{spec: spec, journal: j, set: set, tel: tel}
	deadLetters, _ := j.(DeadLetterStore)
	var errs []error
	for _, ss := range spec.Sources {
		f, ok := regs.Sources.Lookup(ss.Type)
		if !ok {
			errs = append(errs, fmt.Errorf("source %s: %w %q", ss.Name, ErrUnknownType, ss.Type))
			continue
		}
		src, err := f.NewSource(ctx, set.For("source", ss.Name), ss.Config)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", ss.Name, err))
			continue
		}
		p.sources = append(p.sources, &sourceRunner{name: ss.Name, source: src, host: &sourceHost{
			name: ss.Name, journal: j, tel: tel, clock: set.Clock,
			attrs:    metric.WithAttributeSet(attribute.NewSet(attribute.String("source", ss.Name))),
			onAppend: p.noteAppended,
		}})
	}
	for _, ks := range spec.Sinks {
		f, ok := regs.Sinks.Lookup(ks.Type)
		if !ok {
			errs = append(errs, fmt.Errorf("sink %s: %w %q", ks.Name, ErrUnknownType, ks.Type))
			continue
		}
		ksSet := set.For("sink", ks.Name)
		sink, err := f.NewSink(ctx, ksSet, ks.Config)
		if err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", ks.Name, err))
			continue
		}
		retry, batch := ks.Retry, ks.Batch
		if retry == (RetryConfig{}) {
			retry = DefaultRetryConfig()
		}
		if batch == (BatchConfig{}) {
			batch = DefaultBatchConfig()
		}
		if err := errors.Join(retry.Validate(), batch.Validate()); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w: %w", ks.Name, ErrInvalidConfig, err))
			continue
		}
		p.sinks = append(p.sinks, &sinkRunner{
			name: ks.Name, sink: sink, routes: newSinkRoutes(ks.Name, spec.Routes), deadLetters: deadLetters,
			throttles: newSinkThrottles(ks.Throttle, spec.Routes, ks.Name),
			retry:     retry, batch: batch, log: ksSet.Logger, clock: set.Clock, tel: tel,
			attrs:   metric.WithAttributeSet(attribute.NewSet(attribute.String("sink", ks.Name))),
			backoff: retry.NewBackOff(set.Clock),
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Ready reports whether the pipeline is running: sinks started and the
// router delivering. It turns false when shutdown begins.
func (p *Pipeline) Ready() bool { return p.ready.Load() }

// noteAppended tracks the newest appended sequence for the lag gauge.
func (p *Pipeline) noteAppended(last uint64) {
	for {
		cur := p.lastAppended.Load()
		if last <= cur || p.lastAppended.CompareAndSwap(cur, last) {
			return
		}
	}
}

// observeLag reports each sink's lag: appended but not yet handled.
func (p *Pipeline) observeLag(_ context.Context, o metric.Observer) error {
	last := p.lastAppended.Load()
	for _, s := range p.sinks {
		next := s.next.Load()
		var lag int64
		if next != 0 && last+1 > next {
			lag = int64(last + 1 - next)
		}
		o.ObserveInt64(p.tel.sinkLag, lag, s.attrs)
		var age float64
		if oldest := s.oldestPending.Load(); lag > 0 && oldest != 0 {
			age = max(0, p.set.Clock.Now().Sub(time.Unix(0, oldest)).Seconds())
		}
		o.ObserveFloat64(p.tel.sinkLagAge, age, s.attrs)
	}
	return nil
}
