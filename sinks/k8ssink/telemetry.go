package k8ssink

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/internal/reqmetrics"
	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sinks/k8ssink"

// Metric names. Every instrument carries a "sink" attribute with the
// component's configured name.
//
//	sluice.sink.k8s.requests          counter    API requests, by "verb" (get, create, patch, update, apply),
//	                                             "resource" (events.k8s.io/events, nodes/status, ...) and
//	                                             "status_class" (2xx..5xx, or "error" without an answer)
//	sluice.sink.k8s.request.duration  histogram  seconds per request, same attributes
//	sluice.sink.k8s.events            counter    events, by "action" and "outcome": applied (took effect),
//	                                             aggregated (folded into a series or a later write of the
//	                                             same object), duplicate (already applied: a replay),
//	                                             failed (transient), refused (permanent, dead-lettered),
//	                                             unmapped (no rule)
//	sluice.sink.k8s.heartbeats        counter    condition heartbeat writes, by "outcome" (ok, failed)
const (
	metricPrefix     = "sluice.sink.k8s" // .requests and .request.duration (reqmetrics)
	metricEvents     = "sluice.sink.k8s.events"
	metricHeartbeats = "sluice.sink.k8s.heartbeats"
)

// Event outcomes.
const (
	outcomeApplied    = "applied"
	outcomeAggregated = "aggregated"
	outcomeDuplicate  = "duplicate"
	outcomeFailed     = "failed"
	outcomeRefused    = "refused"
	outcomeUnmapped   = "unmapped"
)

type telemetry struct {
	tracer     trace.Tracer
	requests   *reqmetrics.Metrics
	events     metric.Int64Counter
	heartbeats metric.Int64Counter
	sink       attribute.KeyValue
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	requests, err1 := reqmetrics.New(m, metricPrefix, reqmetrics.Descriptions{
		Requests: "Requests sent to the Kubernetes API, by verb, resource and status class.",
		Duration: "Time from sending a request to the Kubernetes API to reading its answer.",
	})
	events, err3 := m.Int64Counter(metricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Events handled by the Kubernetes sink, by action and outcome."))
	heartbeats, err4 := m.Int64Counter(metricHeartbeats, metric.WithUnit("{write}"),
		metric.WithDescription("Node condition heartbeat writes, by outcome."))
	if err := errors.Join(err1, err3, err4); err != nil {
		return nil, err
	}
	return &telemetry{
		tracer: set.TracerProvider.Tracer(scope), requests: requests,
		events: events, heartbeats: heartbeats, sink: attribute.String("sink", set.ID),
	}, nil
}

// request counts one request; status is 0 when no answer came back.
func (t *telemetry) request(ctx context.Context, verb, resource string, status int, seconds float64) {
	t.requests.Record(ctx, seconds, t.sink, attribute.String("verb", verb), attribute.String("resource", resource),
		attribute.String("status_class", httpclient.StatusClass(status)))
}

// event counts n events of action with outcome.
func (t *telemetry) event(ctx context.Context, action, outcome string, n int) {
	if n == 0 {
		return
	}
	t.events.Add(context.WithoutCancel(ctx), int64(n), metric.WithAttributes(t.sink,
		attribute.String("action", action), attribute.String("outcome", outcome)))
}

// heartbeat counts one heartbeat write.
func (t *telemetry) heartbeat(ctx context.Context, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	t.heartbeats.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(t.sink, attribute.String("outcome", outcome)))
}
