package reqmetrics

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics is a request counter and a request duration histogram.
type Metrics struct {
	requests metric.Int64Counter
	duration metric.Float64Histogram
}

// Descriptions are the instruments' descriptions, as Prometheus HELP and
// OTLP show them.
type Descriptions struct {
	Requests string // e.g. "Requests sent to the VES collector, by endpoint and status class."
	Duration string // e.g. "Time from sending a request to the VES collector to reading its answer."
}

// New creates prefix+".requests" (unit {request}) and
// prefix+".request.duration" (unit s) on m.
func New(m metric.Meter, prefix string, d Descriptions) (*Metrics, error) {
	requests, err1 := m.Int64Counter(prefix+".requests", metric.WithUnit("{request}"),
		metric.WithDescription(d.Requests))
	duration, err2 := m.Float64Histogram(prefix+".request.duration", metric.WithUnit("s"),
		metric.WithDescription(d.Duration), metric.WithExplicitBucketBoundaries(DurationBuckets()...))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return &Metrics{requests: requests, duration: duration}, nil
}

// Record counts one request that took seconds, with attrs on both
// instruments. It records even when ctx is cancelled: the request ended,
// whatever became of its caller.
func (m *Metrics) Record(ctx context.Context, seconds float64, attrs ...attribute.KeyValue) {
	m.RecordSet(ctx, seconds, metric.WithAttributeSet(attribute.NewSet(attrs...)))
}

// RecordSet is Record with the attributes as a prepared option
// (metric.WithAttributeSet of a set built once), for callers that record
// the same few attribute combinations at high rates.
func (m *Metrics) RecordSet(ctx context.Context, seconds float64, set metric.MeasurementOption) {
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	m.requests.Add(ctx, 1, set)
	m.duration.Record(ctx, seconds, set)
}

// DurationBuckets returns the explicit bucket boundaries, in seconds, of
// the request.duration histograms: 0.5ms to 10s. Each call returns a new
// slice.
func DurationBuckets() []float64 {
	return []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}
