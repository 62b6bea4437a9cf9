package natssource

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/sluice-dev/sluice/sources/natssource"

// Metric names (doc.go, Metrics).
const (
	metricReceived = "sluice.fleet.route.received"
	metricAppended = "sluice.fleet.route.appended"
	metricOrder    = "sluice.fleet.route.order"
	metricMissing  = "sluice.fleet.route.missing"
	metricBad      = "sluice.fleet.route.malformed"
	metricLag      = "sluice.fleet.route.lag"
	metricPending  = "sluice.fleet.route.pending"
	metricDup      = "sluice.fleet.route.duplicates"
)

type telemetry struct {
	received, appended, order, missing, bad, duplicates metric.Int64Counter
	lag                                                 metric.Float64Histogram
	reg                                                 metric.Registration
	pending                                             atomic.Int64 // the consumer's NumPending at the last record
}

func newTelemetry(mp metric.MeterProvider, source string) (*telemetry, error) {
	m := mp.Meter(scope)
	t := &telemetry{}
	var err error
	if t.received, err = m.Int64Counter(metricReceived, metric.WithUnit("{event}"),
		metric.WithDescription("Records received from the fleet stream (redeliveries included).")); err != nil {
		return nil, err
	}
	if t.appended, err = m.Int64Counter(metricAppended, metric.WithUnit("{event}"),
		metric.WithDescription("Records appended to this router's journal, then acknowledged to the stream.")); err != nil {
		return nil, err
	}
	if t.order, err = m.Int64Counter(metricOrder, metric.WithUnit("{event}"),
		metric.WithDescription("Records by the per-agent order check: in_order, gap, late.")); err != nil {
		return nil, err
	}
	if t.missing, err = m.Int64Counter(metricMissing, metric.WithUnit("{event}"),
		metric.WithDescription("Agent sequences skipped over by gaps (taken by another router, or never sent).")); err != nil {
		return nil, err
	}
	if t.bad, err = m.Int64Counter(metricBad, metric.WithUnit("{message}"),
		metric.WithDescription("Messages that are not fleet records, terminated (kept in the stream).")); err != nil {
		return nil, err
	}
	if t.duplicates, err = m.Int64Counter(metricDup, metric.WithUnit("{event}"),
		metric.WithDescription("Records acknowledged without being appended: another copy of the same agent sequence was already taken (dedupe bucket).")); err != nil {
		return nil, err
	}
	if t.lag, err = m.Float64Histogram(metricLag, metric.WithUnit("s"),
		metric.WithDescription("From the agent's journal append to this router's."),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 600, 3600)); err != nil {
		return nil, err
	}
	pending, err := m.Int64ObservableGauge(metricPending, metric.WithUnit("{event}"),
		metric.WithDescription("Records in the stream not yet delivered to any router of the consumer (backlog)."))
	if err != nil {
		return nil, err
	}
	attrs := metric.WithAttributes(attribute.String("source", source))
	t.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(pending, t.pending.Load(), attrs)
		return nil
	}, pending)
	return t, err
}

var verdictNames = [...]string{inOrder: "in_order", gap: "gap", late: "late"}

func (t *telemetry) judged(ctx context.Context, v verdict) {
	t.order.Add(ctx, 1, metric.WithAttributes(attribute.String("verdict", verdictNames[v])))
}
