package httpclient

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Instrument wraps rt so that every request is measured by otelhttp under
// the OpenTelemetry HTTP client semantic conventions
// (http.client.request.duration, http.client.request.body.size, with
// http.request.method, http.response.status_code, server.address,
// server.port, error.type and the like) on mp, each point also carrying
// attrs (the component's name and type). It records no span and injects
// no header: the component keeps its own client span and traceparent.
func Instrument(rt http.RoundTripper, mp metric.MeterProvider, attrs ...attribute.KeyValue) http.RoundTripper {
	measured := otelhttp.NewTransport(rt,
		otelhttp.WithMeterProvider(mp),
		otelhttp.WithTracerProvider(tracenoop.NewTracerProvider()),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()))
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		l := &otelhttp.Labeler{}
		l.Add(attrs...)
		return measured.RoundTrip(r.WithContext(otelhttp.ContextWithClientLabeler(r.Context(), l)))
	})
}

// roundTripperFunc is a function as an http.RoundTripper.
type roundTripperFunc func(*http.Request) (*http.Response, error)

// RoundTrip implements http.RoundTripper.
func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
