package probesource

import (
	"context"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/reqmetrics"
	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sources/probesource"

// Metric names. Every instrument carries "source" (the component's name);
// checks and transitions carry "probe" too (one series per probe), checks
// and duration "kind" and "result" (healthy or unhealthy).
//
//	sluice.source.probe.checks          counter    checks run
//	sluice.source.probe.check.duration  histogram  seconds per check
//	sluice.source.probe.transitions     counter    state transitions, by "to"
//	sluice.source.probe.state           gauge      1 healthy, 0 unhealthy, -1 unknown, per probe
//	sluice.source.probe.emit.failures   counter    batches the journal refused (state kept for the next check)
const (
	metricChecks       = "sluice.source.probe.checks"
	metricDuration     = "sluice.source.probe.check.duration"
	metricTransitions  = "sluice.source.probe.transitions"
	metricState        = "sluice.source.probe.state"
	metricEmitFailures = "sluice.source.probe.emit.failures"
)

type telemetry struct {
	tracer       trace.Tracer
	meter        metric.Meter
	checks       metric.Int64Counter
	duration     metric.Float64Histogram
	transitions  metric.Int64Counter
	state        metric.Int64ObservableGauge
	emitFailures metric.Int64Counter
	source       attribute.KeyValue
	// durations holds the duration attribute sets per kind and result,
	// shared by the probes of a kind.
	durations map[string]metric.MeasurementOption
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	checks, err1 := m.Int64Counter(metricChecks, metric.WithUnit("{check}"),
		metric.WithDescription("Probe checks run, by probe, kind and result."))
	duration, err2 := m.Float64Histogram(metricDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of probe checks, by kind and result."),
		metric.WithExplicitBucketBoundaries(reqmetrics.DurationBuckets()...))
	transitions, err3 := m.Int64Counter(metricTransitions, metric.WithUnit("{transition}"),
		metric.WithDescription("Probe state transitions recorded, by probe and new state."))
	state, err4 := m.Int64ObservableGauge(metricState, // a state, not a ratio: no unit (Prometheus would add _ratio)
		metric.WithDescription("Probe state: 1 healthy, 0 unhealthy, -1 unknown."))
	emitFailures, err5 := m.Int64Counter(metricEmitFailures, metric.WithUnit("{batch}"),
		metric.WithDescription("Probe event batches the journal refused; the probe's state is kept and retried with the next check."))
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
	}
	return &telemetry{
		tracer: set.TracerProvider.Tracer(scope), meter: m,
		checks: checks, duration: duration, transitions: transitions, state: state, emitFailures: emitFailures,
		source:    attribute.String("source", set.ID),
		durations: map[string]metric.MeasurementOption{},
	}, nil
}

// durationAttrs returns the shared attribute set of kind and result.
func (t *telemetry) durationAttrs(kind, result string) metric.MeasurementOption {
	key := kind + "/" + result
	if o, ok := t.durations[key]; ok {
		return o
	}
	o := metric.WithAttributeSet(attribute.NewSet(t.source, attribute.String("kind", kind), attribute.String("result", result)))
	t.durations[key] = o
	return o
}

// probeAttrs are a probe's precomputed attribute sets, so a check records
// its metrics without allocating them. attrsFor is called while the
// source is built, by one goroutine.
type probeAttrs struct {
	// The options are slices so that passing them (opts...) does not
	// allocate a new one at every check.
	healthy, unhealthy       []metric.AddOption
	durHealthy, durUnhealthy []metric.RecordOption
	probe                    metric.MeasurementOption
	name                     attribute.KeyValue
	// gauge is the state for the observable gauge: 1, 0 or -1.
	gauge atomic.Int64
}

func (t *telemetry) attrsFor(name, kind string) *probeAttrs {
	p := attribute.String("probe", name)
	k := attribute.String("kind", kind)
	a := &probeAttrs{
		healthy:      []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(t.source, p, k, attribute.String("result", "healthy")))},
		unhealthy:    []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(t.source, p, k, attribute.String("result", "unhealthy")))},
		durHealthy:   []metric.RecordOption{t.durationAttrs(kind, "healthy")},
		durUnhealthy: []metric.RecordOption{t.durationAttrs(kind, "unhealthy")},
		probe:        metric.WithAttributeSet(attribute.NewSet(t.source, p)),
		name:         p,
	}
	a.gauge.Store(-1)
	return a
}

func (t *telemetry) recordCheck(ctx context.Context, a *probeAttrs, healthy bool, seconds float64) {
	if healthy {
		t.checks.Add(ctx, 1, a.healthy...)
		t.duration.Record(ctx, seconds, a.durHealthy...)
		return
	}
	t.checks.Add(ctx, 1, a.unhealthy...)
	t.duration.Record(ctx, seconds, a.durUnhealthy...)
}

func (t *telemetry) recordTransition(ctx context.Context, a *probeAttrs, to string) {
	t.transitions.Add(ctx, 1, metric.WithAttributes(t.source, a.name, attribute.String("to", to)))
	a.gauge.Store(gaugeValue(to))
}

func gaugeValue(state string) int64 {
	switch state {
	case StateHealthy:
		return 1
	case StateUnhealthy:
		return 0
	}
	return -1
}

func (t *telemetry) recordEmitFailure(ctx context.Context, reason string) {
	t.emitFailures.Add(ctx, 1, metric.WithAttributes(t.source, attribute.String("reason", reason)))
}

// observeStates registers the state gauge's callback for probes; the
// returned function unregisters it.
func (t *telemetry) observeStates(probes []*probe) (func() error, error) {
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, p := range probes {
			o.ObserveInt64(t.state, p.attrs.gauge.Load(), p.attrs.probe)
		}
		return nil
	}, t.state)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
