package httpserver

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Instrument wraps h so that every request is measured by otelhttp under
// the OpenTelemetry HTTP server semantic conventions
// (http.server.request.duration, http.server.request.body.size,
// http.server.response.body.size, http.server.active_requests, with
// http.request.method, http.response.status_code, url.scheme,
// network.protocol.version and the like) on mp, each point also carrying
// attrs (the component's name and type). It records no span and reads no
// trace context: the component's handler keeps its own server span.
func Instrument(h http.Handler, mp metric.MeterProvider, attrs ...attribute.KeyValue) http.Handler {
	labelled := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l, ok := otelhttp.LabelerFromContext(r.Context()); ok {
			l.Add(attrs...)
		}
		h.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(labelled, "",
		otelhttp.WithMeterProvider(mp),
		otelhttp.WithTracerProvider(tracenoop.NewTracerProvider()),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()))
}
