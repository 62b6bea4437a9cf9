package httpsource

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sources/httpsource"

// Metric names. Every instrument carries a "source" attribute with the
// component's configured name; requests and duration also carry
// "http.response.status_code".
//
//	sluice.source.http.requests          counter    requests answered
//	sluice.source.http.events.received   counter    events in well-formed requests, before the append
//	sluice.source.http.request.duration  histogram  seconds from request to answer
const (
	metricRequests = "sluice.source.http.requests"
	metricEvents   = "sluice.source.http.events.received"
	metricDuration = "sluice.source.http.request.duration"
)

type telemetry struct {
	tracer   trace.Tracer
	requests metric.Int64Counter
	events   metric.Int64Counter
	duration metric.Float64Histogram
	source   attribute.KeyValue
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	requests, err1 := m.Int64Counter(metricRequests, metric.WithUnit("{request}"),
		metric.WithDescription("HTTP requests answered by the source, by status code."))
	events, err2 := m.Int64Counter(metricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Events received in well-formed requests, before they are appended."))
	duration, err3 := m.Float64Histogram(metricDuration, metric.WithUnit("s"),
		metric.WithDescription("Time from receiving a request to answering it, including the durable append."),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	return &telemetry{
		tracer:   set.TracerProvider.Tracer(scope),
		requests: requests,
		events:   events,
		duration: duration,
		source:   attribute.String("source", set.ID),
	}, nil
}

// record counts one answered request.
func (t *telemetry) record(ctx context.Context, status, events int, seconds float64) {
	// The recording must not depend on the request context, which may be
	// cancelled by now.
	ctx = context.WithoutCancel(ctx)
	codeAttrs := metric.WithAttributes(t.source, attribute.Int("http.response.status_code", status))
	t.requests.Add(ctx, 1, codeAttrs)
	t.duration.Record(ctx, seconds, codeAttrs)
	if events > 0 {
		t.events.Add(ctx, int64(events), metric.WithAttributes(t.source))
	}
}
