package journal

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// scope is the instrumentation scope of the journal's tracer and meter.
const scope = "github.com/sluice-dev/sluice/journal"

// Metric names. All are prefixed sluice.journal.; see doc.go.
const (
	metricAppended         = "sluice.journal.appended"
	metricAppendedBytes    = "sluice.journal.appended.bytes"
	metricAppendFailed     = "sluice.journal.append.failed"
	metricCommitDuration   = "sluice.journal.commit.duration"
	metricGroupSize        = "sluice.journal.commit.group.size"
	metricSegments         = "sluice.journal.segments"
	metricSize             = "sluice.journal.size"
	metricRetentionRemoved = "sluice.journal.retention.removed"
	metricDropped          = "sluice.journal.dropped"
	metricCommitFailed     = "sluice.journal.commit.failed"
	metricReopened         = "sluice.journal.reopened"
	metricRefusing         = "sluice.journal.refusing"
	metricOpenSegments     = "sluice.journal.segments.open"
)

type telemetry struct {
	tracer trace.Tracer

	appended       metric.Int64Counter
	appendedBytes  metric.Int64Counter
	appendFailed   metric.Int64Counter
	commitDuration metric.Float64Histogram
	groupSize      metric.Int64Histogram
	removed        metric.Int64Counter
	dropped        metric.Int64Counter
	commitFails    metric.Int64Counter
	reopens        metric.Int64Counter
	reg            metric.Registration
}

// newTelemetry creates the instruments; segments and size are observed
// from the journal's current head.
func newTelemetry(o Options, observe func() (segments int, bytes int64), health func() (refusing bool, openSegments int)) (*telemetry, error) {
	t := &telemetry{tracer: o.TracerProvider.Tracer(scope)}
	m := o.MeterProvider.Meter(scope)
	var err error
	if t.appended, err = m.Int64Counter(metricAppended, metric.WithUnit("{event}"),
		metric.WithDescription("Events made durable in the journal.")); err != nil {
		return nil, err
	}
	if t.appendedBytes, err = m.Int64Counter(metricAppendedBytes, metric.WithUnit("By"),
		metric.WithDescription("Encoded record bytes made durable in the journal.")); err != nil {
		return nil, err
	}
	if t.appendFailed, err = m.Int64Counter(metricAppendFailed, metric.WithUnit("{batch}"),
		metric.WithDescription("Append batches that failed, by reason.")); err != nil {
		return nil, err
	}
	if t.commitDuration, err = m.Float64Histogram(metricCommitDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of one group-commit transaction including fsync."),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)); err != nil {
		return nil, err
	}
	if t.groupSize, err = m.Int64Histogram(metricGroupSize, metric.WithUnit("{event}"),
		metric.WithDescription("Events per group-commit transaction."),
		metric.WithExplicitBucketBoundaries(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)); err != nil {
		return nil, err
	}
	if t.removed, err = m.Int64Counter(metricRetentionRemoved, metric.WithUnit("{segment}"),
		metric.WithDescription("Segments removed by retention.")); err != nil {
		return nil, err
	}
	if t.dropped, err = m.Int64Counter(metricDropped, metric.WithUnit("{event}"),
		metric.WithDescription("Records removed by the drop_oldest policy before every cursor passed them.")); err != nil {
		return nil, err
	}
	if t.commitFails, err = m.Int64Counter(metricCommitFailed, metric.WithUnit("{commit}"),
		metric.WithDescription("Commits of the active segment that failed (for instance fsync EIO); each breaks the handle until it is reopened.")); err != nil {
		return nil, err
	}
	if t.reopens, err = m.Int64Counter(metricReopened, metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts to reopen the active segment after a failed commit, by outcome (ok, failed).")); err != nil {
		return nil, err
	}
	refusing, err := m.Int64ObservableGauge(metricRefusing, // a state, not a ratio: no unit
		metric.WithDescription("1 while the journal refuses writes after a failed commit, else 0."))
	if err != nil {
		return nil, err
	}
	open, err := m.Int64ObservableGauge(metricOpenSegments, metric.WithUnit("{segment}"),
		metric.WithDescription("Sealed segments holding an open file and memory map (bounded by max open segments)."))
	if err != nil {
		return nil, err
	}
	segs, err := m.Int64ObservableGauge(metricSegments, metric.WithUnit("{segment}"),
		metric.WithDescription("Segment files in the journal."))
	if err != nil {
		return nil, err
	}
	size, err := m.Int64ObservableGauge(metricSize, metric.WithUnit("By"),
		metric.WithDescription("Disk space of the journal's segment files."))
	if err != nil {
		return nil, err
	}
	t.reg, err = m.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		n, b := observe()
		ob.ObserveInt64(segs, int64(n))
		ob.ObserveInt64(size, b)
		r, o := health()
		ob.ObserveInt64(refusing, boolInt(r))
		ob.ObserveInt64(open, int64(o))
		return nil
	}, segs, size, refusing, open)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) failed(reason string) {
	t.appendFailed.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason)))
}

func (t *telemetry) commitFailed() {
	t.commitFails.Add(context.Background(), 1)
}

func (t *telemetry) reopened(ok bool) {
	outcome := "failed"
	if ok {
		outcome = "ok"
	}
	t.reopens.Add(context.Background(), 1, metric.WithAttributes(attribute.String("outcome", outcome)))
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (t *telemetry) shutdown() {
	if t.reg != nil {
		_ = t.reg.Unregister()
	}
}
