package httpsource

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sources/httpsource"

// Metric names. Requests are measured under the OpenTelemetry HTTP server
// semantic conventions (http.server.request.duration with
// http.response.status_code, http.server.request.body.size, ...; see
// httpserver.Instrument), with "source" (the component's configured name)
// and "source_type" ("http"), as is the source's own counter:
//
//	sluice.source.http.events.received   counter    events in well-formed requests, before the append
const metricEvents = "sluice.source.http.events.received"

type telemetry struct {
	tracer trace.Tracer
	meters metric.MeterProvider
	events metric.Int64Counter
	attrs  []attribute.KeyValue
	set    metric.MeasurementOption
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	events, err := m.Int64Counter(metricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Events received in well-formed requests, before they are appended."))
	if err != nil {
		return nil, err
	}
	attrs := []attribute.KeyValue{attribute.String("source", set.ID), attribute.String("source_type", Type)}
	t := &telemetry{
		tracer: set.TracerProvider.Tracer(scope),
		meters: set.MeterProvider,
		events: events,
		attrs:  attrs,
		set:    metric.WithAttributeSet(attribute.NewSet(attrs...)),
	}
	t.events.Add(context.Background(), 0, t.set)
	return t, nil
}

// instrument measures h's requests under the HTTP semantic conventions.
func (t *telemetry) instrument(h http.Handler) http.Handler {
	return httpserver.Instrument(h, t.meters, t.attrs...)
}

// record counts the events of one answered request.
func (t *telemetry) record(ctx context.Context, events int) {
	if events > 0 {
		// The request context may be cancelled by now.
		t.events.Add(context.WithoutCancel(ctx), int64(events), t.set)
	}
}
