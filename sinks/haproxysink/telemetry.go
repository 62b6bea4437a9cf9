package haproxysink

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sinks/haproxysink"

// Metric names. Every instrument carries "sink" (the component's name),
// "action" and "outcome" (applied, permanent, transient).
//
//	sluice.sink.haproxy.requests  counter  sluice.lb.request events handled
const metricRequests = "sluice.sink.haproxy.requests"

type telemetry struct {
	tracer   trace.Tracer
	requests metric.Int64Counter
	sink     attribute.KeyValue
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	requests, err := set.MeterProvider.Meter(scope).Int64Counter(metricRequests, metric.WithUnit("{request}"),
		metric.WithDescription("Load-balancer requests handled by the haproxy sink, by action and outcome."))
	if err != nil {
		return nil, errors.Join(err)
	}
	return &telemetry{tracer: set.TracerProvider.Tracer(scope), requests: requests, sink: attribute.String("sink", set.ID)}, nil
}

func (t *telemetry) record(ctx context.Context, action string, err error) {
	outcome := "applied"
	switch {
	case err != nil && pipeline.IsPermanent(err):
		outcome = "permanent"
	case err != nil:
		outcome = "transient"
	}
	t.requests.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(t.sink,
		attribute.String("action", action), attribute.String("outcome", outcome)))
}
