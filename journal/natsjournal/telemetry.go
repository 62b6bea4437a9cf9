package natsjournal

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sluice-dev/sluice/internal/fleet"
)

const scope = "github.com/sluice-dev/sluice/journal/natsjournal"

// Metric names (doc.go, Metrics).
const (
	metricPublished = "sluice.fleet.forward.published"
	metricDupes     = "sluice.fleet.forward.duplicates"
	metricFailures  = "sluice.fleet.forward.failures"
	metricLatency   = "sluice.fleet.forward.publish.duration"
	metricBacklog   = "sluice.fleet.forward.backlog"
	metricLag       = "sluice.fleet.forward.lag"
)

// Failure reasons (the reason attribute of metricFailures).
const (
	reasonStreamFull   = "stream_full"
	reasonDisconnected = "disconnected"
	reasonTimeout      = "timeout"
	reasonNoStream     = "no_stream"
	reasonOther        = "other"
)

type telemetry struct {
	published, dupes, failures metric.Int64Counter
	latency                    metric.Float64Histogram
	reg                        metric.Registration

	// next is the forwarder's cursor, oldest the append time (unix ns) of
	// the oldest record read and not yet acknowledged (0: none).
	next, oldest atomic.Int64
}

func newTelemetry(mp metric.MeterProvider, now func() time.Time, head func(context.Context) (uint64, error)) (*telemetry, error) {
	m := mp.Meter(scope)
	t := &telemetry{}
	var err error
	if t.published, err = m.Int64Counter(metricPublished, metric.WithUnit("{event}"),
		metric.WithDescription("Journal records acknowledged by the fleet stream.")); err != nil {
		return nil, err
	}
	if t.dupes, err = m.Int64Counter(metricDupes, metric.WithUnit("{event}"),
		metric.WithDescription("Records the stream already held (a retry inside the duplicate window).")); err != nil {
		return nil, err
	}
	if t.failures, err = m.Int64Counter(metricFailures, metric.WithUnit("{event}"),
		metric.WithDescription("Records whose publish failed and will be sent again, by reason.")); err != nil {
		return nil, err
	}
	if t.latency, err = m.Float64Histogram(metricLatency, metric.WithUnit("s"),
		metric.WithDescription("From publishing a batch to the stream's last ack of it."),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)); err != nil {
		return nil, err
	}
	backlog, err := m.Int64ObservableGauge(metricBacklog, metric.WithUnit("{event}"),
		metric.WithDescription("Journal records not yet acknowledged by the fleet stream."))
	if err != nil {
		return nil, err
	}
	lag, err := m.Float64ObservableGauge(metricLag, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest journal record not yet acknowledged by the fleet stream (0 when caught up)."))
	if err != nil {
		return nil, err
	}
	t.reg, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		if last, err := head(ctx); err == nil {
			o.ObserveInt64(backlog, max(int64(last)+1-t.next.Load(), 0))
		}
		var age float64
		if ns := t.oldest.Load(); ns > 0 {
			age = max(now().Sub(time.Unix(0, ns)).Seconds(), 0)
		}
		o.ObserveFloat64(lag, age)
		return nil
	}, backlog, lag)
	return t, err
}

// failed counts n records that failed with err.
func (t *telemetry) failed(ctx context.Context, n int, err error) {
	t.failures.Add(ctx, int64(n), metric.WithAttributes(attribute.String("reason", reason(err))))
}

// JetStream error codes nats.go has no constant for [NS errors.json]:
// 503 / 10077 "maximum messages/bytes exceeded" is a full DiscardNew
// stream; 400 / 10060 is a Nats-Expected-Stream that does not match.
const (
	errCodeStreamStoreFailed jetstream.ErrorCode = 10077
	errCodeStreamMismatch    jetstream.ErrorCode = 10060
)

// reason classifies a publish failure.
func reason(err error) string {
	var api *jetstream.APIError
	switch {
	case errors.As(err, &api) && api.ErrorCode == errCodeStreamStoreFailed:
		return reasonStreamFull
	case errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamNotFound || api.ErrorCode == errCodeStreamMismatch):
		return reasonNoStream
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, fleet.ErrNoStream), errors.Is(err, nats.ErrNoResponders):
		return reasonNoStream
	case errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrReconnectBufExceeded):
		return reasonDisconnected
	case errors.Is(err, jetstream.ErrAsyncPublishTimeout), errors.Is(err, jetstream.ErrTooManyStalledMsgs), errors.Is(err, context.DeadlineExceeded):
		return reasonTimeout
	}
	return reasonOther
}
