package pipeline

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationScope is the tracer and meter scope of the pipeline core.
const instrumentationScope = "github.com/sluice-dev/sluice/pipeline"

// Metric names. Every instrument of a source carries "source" (the
// component's configured name) and "source_type" (its type), every
// instrument of a sink "sink" and "sink_type"; the counters of each
// configured component exist from the start, at zero (failures for each
// kind, emit errors for each reason, throttled for each outcome when the
// sink or one of its routes throttles), so that rate() and alerts see
// them before the first event.
//
//	sluice.source.events           counter   events emitted and durably appended
//	sluice.source.emit.errors      counter   failed emits, by reason (full, closed, error)
//	sluice.source.emit.duration    histogram seconds from Emit to durable
//	sluice.sink.delivered          counter   events delivered
//	sluice.sink.failures           counter   failed Deliver calls, by kind (transient, permanent)
//	sluice.sink.retries            counter   retries scheduled after a transient failure
//	sluice.sink.dead_lettered      counter   events given up on (permanent, or retries exhausted)
//	sluice.sink.throttled          counter   events a throttle held back or coalesced, by outcome (held, superseded, overflow)
//	sluice.sink.delivery.duration  histogram seconds per successful Deliver call
//	sluice.sink.lag                gauge     events appended but not yet delivered
//	sluice.sink.lag.age            gauge     seconds since the oldest undelivered event was appended
//	sluice.route.match_errors      counter   events a route's match could not evaluate, by route
//	sluice.journal.orphan_cursors_removed counter cursors of sinks no longer configured, removed after journal.orphan_cursor_ttl
//	sluice.tap.subscribers         updown    taps open (sluice tap), no attributes
//	sluice.tap.dropped             counter   observations a tap's reader was too slow for
//
// The Prometheus exporter names them with _ and a _total suffix for
// counters (sluice_route_match_errors_total).
const (
	metricSourceEvents       = "sluice.source.events"
	metricSourceEmitErrors   = "sluice.source.emit.errors"
	metricSourceEmitDuration = "sluice.source.emit.duration"
	metricSinkDelivered      = "sluice.sink.delivered"
	metricSinkFailures       = "sluice.sink.failures"
	metricSinkRetries        = "sluice.sink.retries"
	metricSinkDeadLettered   = "sluice.sink.dead_lettered"
	metricSinkThrottled      = "sluice.sink.throttled"
	metricSinkDuration       = "sluice.sink.delivery.duration"
	metricSinkLag            = "sluice.sink.lag"
	metricSinkLagAge         = "sluice.sink.lag.age"
	metricRouteMatchErrors   = "sluice.route.match_errors"
	metricOrphansRemoved     = "sluice.journal.orphan_cursors_removed"
	metricTapSubscribers     = "sluice.tap.subscribers"
	metricTapDropped         = "sluice.tap.dropped"
)

// telemetry holds the pipeline core's instruments.
type telemetry struct {
	tracer trace.Tracer

	sourceEvents       metric.Int64Counter
	sourceEmitErrors   metric.Int64Counter
	sourceEmitDuration metric.Float64Histogram
	sinkDelivered      metric.Int64Counter
	sinkFailures       metric.Int64Counter
	sinkRetries        metric.Int64Counter
	sinkDeadLettered   metric.Int64Counter
	sinkThrottled      metric.Int64Counter
	sinkDuration       metric.Float64Histogram
	sinkLag            metric.Int64ObservableGauge
	sinkLagAge         metric.Float64ObservableGauge
	routeMatchErrors   metric.Int64Counter
	orphansRemoved     metric.Int64Counter
	tapSubscribers     metric.Int64UpDownCounter
	tapDropped         metric.Int64Counter
}

func newTelemetry(set Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(instrumentationScope)
	t := &telemetry{tracer: set.TracerProvider.Tracer(instrumentationScope)}
	var err error
	counter := func(name, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("{event}"))
		return c
	}
	hist := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var h metric.Float64Histogram
		h, err = m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
		return h
	}
	t.sourceEvents = counter(metricSourceEvents, "Events emitted by sources and durably appended to the journal.")
	t.sourceEmitErrors = counter(metricSourceEmitErrors, "Emits that failed, by reason.")
	t.sourceEmitDuration = hist(metricSourceEmitDuration, "Time from Emit to durable append.")
	t.sinkDelivered = counter(metricSinkDelivered, "Events delivered by sinks.")
	t.sinkFailures = counter(metricSinkFailures, "Failed Deliver calls, by kind.")
	t.sinkRetries = counter(metricSinkRetries, "Retries scheduled after transient delivery failures.")
	t.sinkDeadLettered = counter(metricSinkDeadLettered, "Events given up on after a permanent failure or exhausted retries.")
	t.sinkThrottled = counter(metricSinkThrottled, "Events a throttle held back or coalesced into a newer one, by outcome.")
	t.routeMatchErrors = counter(metricRouteMatchErrors, "Events whose route match could not be evaluated (counted as no match unless on_error: dead_letter), by route.")
	t.sinkDuration = hist(metricSinkDuration, "Duration of successful Deliver calls.")
	if err != nil {
		return nil, err
	}
	t.orphansRemoved, err = m.Int64Counter(metricOrphansRemoved, metric.WithDescription("Journal cursors of sinks no longer configured, removed after journal.orphan_cursor_ttl."), metric.WithUnit("{cursor}"))
	if err != nil {
		return nil, err
	}
	t.sinkLag, err = m.Int64ObservableGauge(metricSinkLag, metric.WithDescription("Events appended to the journal but not yet delivered by the sink."), metric.WithUnit("{event}"))
	if err != nil {
		return nil, err
	}
	t.tapSubscribers, err = m.Int64UpDownCounter(metricTapSubscribers, metric.WithDescription("Taps open on the pipeline (sluice tap)."), metric.WithUnit("{tap}"))
	if err != nil {
		return nil, err
	}
	t.tapDropped = counter(metricTapDropped, "Observations a tap dropped because its reader was too slow.")
	if err != nil {
		return nil, err
	}
	t.sinkLagAge, err = m.Float64ObservableGauge(metricSinkLagAge, metric.WithDescription("Age of the oldest event appended but not yet delivered by the sink."), metric.WithUnit("s"))
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Attribute values the counters are created with, at zero.
var (
	emitErrorReasons = []string{"full", "closed", "canceled", "error"}
	failureKinds     = []string{"transient", "permanent", "partial"}
	throttleOutcomes = []string{"held", "superseded", "overflow"}
)

// sourceAttrs is the attribute set of a source's measurements.
func sourceAttrs(name, typ string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("source", name), attribute.String("source_type", typ)))
}

// sinkAttrs is the attribute set of a sink's measurements; extra are
// added (replay marks its deliveries).
func sinkAttrs(name, typ string, extra ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(append([]attribute.KeyValue{attribute.String("sink", name), attribute.String("sink_type", typ)}, extra...)...))
}

// zeroSource creates a source's counters at zero.
func (t *telemetry) zeroSource(attrs metric.MeasurementOption) {
	ctx := context.Background()
	t.sourceEvents.Add(ctx, 0, attrs)
	for _, r := range emitErrorReasons {
		t.sourceEmitErrors.Add(ctx, 0, attrs, metric.WithAttributes(attribute.String("reason", r)))
	}
}

// zeroSink creates a sink's counters at zero; throttled only when the sink
// can throttle.
func (t *telemetry) zeroSink(attrs metric.MeasurementOption, throttles bool) {
	ctx := context.Background()
	t.sinkDelivered.Add(ctx, 0, attrs)
	t.sinkRetries.Add(ctx, 0, attrs)
	t.sinkDeadLettered.Add(ctx, 0, attrs)
	for _, k := range failureKinds {
		t.sinkFailures.Add(ctx, 0, attrs, metric.WithAttributes(attribute.String("kind", k)))
	}
	if throttles {
		for _, o := range throttleOutcomes {
			t.sinkThrottled.Add(ctx, 0, attrs, metric.WithAttributes(attribute.String("outcome", o)))
		}
	}
}

// throttles reports whether a sink of ks throttles: its own throttle or
// one of a route delivering to it.
func throttles(ks SinkSpec, routes []RouteSpec) bool {
	if ks.Throttle != nil {
		return true
	}
	for _, rt := range routes {
		if rt.Throttle != nil && slices.Contains(rt.To, ks.Name) {
			return true
		}
	}
	return false
}
