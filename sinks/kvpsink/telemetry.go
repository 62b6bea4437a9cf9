package kvpsink

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sinks/kvpsink"

// Metric names. Every instrument carries a "sink" attribute with the
// component's configured name; truncated also carries "field" (type,
// name, result or msg).
//
//	sluice.sink.kvp.events     counter    events written to the pool file
//	sluice.sink.kvp.records    counter    records written (an event is several when sliced)
//	sluice.sink.kvp.written    counter    bytes written
//	sluice.sink.kvp.rejected   counter    events refused because the pool file is full
//	sluice.sink.kvp.truncated  counter    fields cut to fit their cap
//	sluice.sink.kvp.lock.wait  histogram  seconds waited for the pool file's locks
//	sluice.sink.kvp.pool.size  gauge      the pool file's size after the last append
const (
	metricEvents    = "sluice.sink.kvp.events"
	metricRecords   = "sluice.sink.kvp.records"
	metricWritten   = "sluice.sink.kvp.written"
	metricRejected  = "sluice.sink.kvp.rejected"
	metricTruncated = "sluice.sink.kvp.truncated"
	metricLockWait  = "sluice.sink.kvp.lock.wait"
	metricPoolSize  = "sluice.sink.kvp.pool.size"
)

type telemetry struct {
	tracer    trace.Tracer
	events    metric.Int64Counter
	records   metric.Int64Counter
	written   metric.Int64Counter
	rejected  metric.Int64Counter
	truncated metric.Int64Counter
	lockWait  metric.Float64Histogram
	poolSize  metric.Int64Gauge
	sink      attribute.KeyValue
	attrs     metric.MeasurementOption
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	events, err1 := m.Int64Counter(metricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Events written to the KVP pool file."))
	records, err2 := m.Int64Counter(metricRecords, metric.WithUnit("{record}"),
		metric.WithDescription("KVP records written to the pool file (a sliced event is several)."))
	written, err3 := m.Int64Counter(metricWritten, metric.WithUnit("By"),
		metric.WithDescription("Bytes written to the KVP pool file."))
	rejected, err4 := m.Int64Counter(metricRejected, metric.WithUnit("{event}"),
		metric.WithDescription("Events refused because the pool file reached max_file_bytes."))
	truncated, err5 := m.Int64Counter(metricTruncated, metric.WithUnit("{field}"),
		metric.WithDescription("Event fields cut to fit their cap, by field."))
	lockWait, err6 := m.Float64Histogram(metricLockWait, metric.WithUnit("s"),
		metric.WithDescription("Time waited for the pool file's flock and fcntl locks."),
		metric.WithExplicitBucketBoundaries(0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10))
	poolSize, err7 := m.Int64Gauge(metricPoolSize, metric.WithUnit("By"),
		metric.WithDescription("Size of the KVP pool file after the last append."))
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		return nil, err
	}
	sink := attribute.String("sink", set.ID)
	return &telemetry{
		tracer: set.TracerProvider.Tracer(scope),
		events: events, records: records, written: written, rejected: rejected,
		truncated: truncated, lockWait: lockWait, poolSize: poolSize,
		sink: sink, attrs: metric.WithAttributes(sink),
	}, nil
}

// recordAppend counts one append.
func (t *telemetry) recordAppend(ctx context.Context, res *appendResult, records int) {
	ctx = context.WithoutCancel(ctx)
	t.lockWait.Record(ctx, res.lockWait.Seconds(), t.attrs)
	if res.events > 0 {
		t.events.Add(ctx, int64(res.events), t.attrs)
		t.records.Add(ctx, int64(records), t.attrs)
		t.written.Add(ctx, res.bytes, t.attrs)
	}
	t.poolSize.Record(ctx, res.sizeAfter, t.attrs)
}

func (t *telemetry) recordTruncated(ctx context.Context, field string) {
	t.truncated.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(t.sink, attribute.String("field", field)))
}

func (t *telemetry) recordRejected(ctx context.Context, n int) {
	t.rejected.Add(context.WithoutCancel(ctx), int64(n), t.attrs)
}
