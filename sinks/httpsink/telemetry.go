package httpsink

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
const scope = "github.com/sluice-dev/sluice/sinks/httpsink"

// Metric names. Every instrument carries a "sink" attribute with the
// component's configured name; requests and duration also carry
// "status_class": 2xx, 3xx, 4xx, 5xx, or "error" when no response came
// back (network error, timeout, cancellation).
//
//	sluice.sink.http.requests          counter    requests sent
//	sluice.sink.http.request.duration  histogram  seconds from sending a request to reading its answer
//	sluice.sink.http.sent              counter    body bytes of the requests that got an answer
const (
	metricPrefix = "sluice.sink.http" // .requests and .request.duration (reqmetrics)
	metricSent   = "sluice.sink.http.sent"
)

type telemetry struct {
	tracer   trace.Tracer
	requests *reqmetrics.Metrics
	sent     metric.Int64Counter
	sink     attribute.KeyValue
	meters   metric.MeterProvider
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	requests, err1 := reqmetrics.New(m, metricPrefix, reqmetrics.Descriptions{
		Requests: "HTTP requests sent by the sink, by status class.",
		Duration: "Time from sending a request to reading its answer.",
	})
	sent, err3 := m.Int64Counter(metricSent, metric.WithUnit("By"),
		metric.WithDescription("Body bytes of the requests the sink sent that got an answer."))
	if err := errors.Join(err1, err3); err != nil {
		return nil, err
	}
	return &telemetry{
		tracer:   set.TracerProvider.Tracer(scope),
		requests: requests,
		sent:     sent,
		sink:     attribute.String("sink", set.ID),
		meters:   set.MeterProvider,
	}, nil
}

// transport measures rt's requests under the OpenTelemetry HTTP client
// semantic conventions (http.client.request.duration, ...), with "sink"
// and "sink_type".
func (t *telemetry) transport(rt http.RoundTripper) http.RoundTripper {
	return httpclient.Instrument(rt, t.meters, t.sink, attribute.String("sink_type", Type))
}

// record counts one request; status is 0 when no response came back.
func (t *telemetry) record(ctx context.Context, status, bodyBytes int, seconds float64) {
	// The caller's context may be cancelled by now.
	ctx = context.WithoutCancel(ctx)
	t.requests.Record(ctx, seconds, t.sink, attribute.String("status_class", httpclient.StatusClass(status)))
	if status != 0 {
		t.sent.Add(ctx, int64(bodyBytes), metric.WithAttributes(t.sink))
	}
}
