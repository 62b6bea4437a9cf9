package hostpluginsink

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/internal/reqmetrics"
	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sinks/hostpluginsink"

// Metric names. Every instrument carries a "sink" attribute with the
// component's configured name.
//
//	sluice.sink.hostplugin.requests          counter    POSTs, by status_class (2xx, 4xx, 5xx, "error" for no answer), class and origin
//	sluice.sink.hostplugin.request.duration  histogram  seconds from sending a POST to reading its answer
//	sluice.sink.hostplugin.observations      counter    events by observation and outcome: reported (with healthy),
//	                                                    coalesced (a newer state of the batch was sent instead),
//	                                                    suppressed (inside the report period), unmapped
const (
	metricPrefix       = "sluice.sink.hostplugin" // .requests and .request.duration (reqmetrics)
	metricObservations = "sluice.sink.hostplugin.observations"
)

// Observation outcomes.
const (
	outcomeReported   = "reported"
	outcomeCoalesced  = "coalesced"
	outcomeSuppressed = "suppressed"
	outcomeUnmapped   = "unmapped"
)

type telemetry struct {
	tracer       trace.Tracer
	requests     *reqmetrics.Metrics
	observations metric.Int64Counter
	sink         attribute.KeyValue
	meters       metric.MeterProvider
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	requests, err1 := reqmetrics.New(m, metricPrefix, reqmetrics.Descriptions{
		Requests: "HealthService POSTs, by status class, outcome class and failure origin.",
		Duration: "Time from sending a HealthService POST to reading its answer.",
	})
	observations, err3 := m.Int64Counter(metricObservations, metric.WithUnit("{event}"),
		metric.WithDescription("Events by observation and outcome: reported, coalesced, suppressed (report period) or unmapped."))
	if err := errors.Join(err1, err3); err != nil {
		return nil, err
	}
	return &telemetry{
		tracer:       set.TracerProvider.Tracer(scope),
		requests:     requests,
		observations: observations,
		sink:         attribute.String("sink", set.ID),
		meters:       set.MeterProvider,
	}, nil
}

// transport measures rt's requests under the OpenTelemetry HTTP client
// semantic conventions (http.client.request.duration, ...), with "sink"
// and "sink_type".
func (t *telemetry) transport(rt http.RoundTripper) http.RoundTripper {
	return httpclient.Instrument(rt, t.meters, t.sink, attribute.String("sink_type", Type))
}

// request counts one POST; status is 0 when no answer came back.
func (t *telemetry) request(ctx context.Context, status int, class Class, origin Origin, seconds float64) {
	ctx = context.WithoutCancel(ctx)
	attrs := []attribute.KeyValue{t.sink, attribute.String("status_class", httpclient.StatusClass(status)), attribute.String("class", class.String())}
	if origin != "" {
		attrs = append(attrs, attribute.String("origin", string(origin)))
	}
	t.requests.Record(ctx, seconds, attrs...)
}

// observation counts events of one observation by outcome.
func (t *telemetry) observation(ctx context.Context, name, outcome string, healthy *bool, n int) {
	if n == 0 {
		return
	}
	attrs := []attribute.KeyValue{t.sink, attribute.String("outcome", outcome)}
	if name != "" {
		attrs = append(attrs, attribute.String("observation", name))
	}
	if healthy != nil {
		attrs = append(attrs, attribute.Bool("healthy", *healthy))
	}
	t.observations.Add(context.WithoutCancel(ctx), int64(n), metric.WithAttributes(attrs...))
}
