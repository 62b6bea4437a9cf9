package vessink

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
const scope = "github.com/sluice-dev/sluice/sinks/vessink"

// Metric names. Every instrument carries a "sink" attribute with the
// component's configured name.
//
//	sluice.sink.ves.requests          counter    requests, by "endpoint" (event, batch) and "status_class" (2xx..5xx, or "error" without an answer)
//	sluice.sink.ves.request.duration  histogram  seconds from sending a request to reading its answer, same attributes
//	sluice.sink.ves.events            counter    events, by "domain" and "outcome": sent (the collector took them),
//	                                             refused (permanently, dead-lettered), unmappable (no request made),
//	                                             thinned (heartbeats acknowledged without a request)
//	sluice.sink.ves.heartbeat.interval gauge     the heartbeat interval in force, seconds (0: the source's)
//	sluice.sink.ves.alarms.open       gauge      faults raised and not yet cleared, as the sink has seen them
const (
	metricPrefix    = "sluice.sink.ves" // .requests and .request.duration (reqmetrics)
	metricEvents    = "sluice.sink.ves.events"
	metricHeartbeat = "sluice.sink.ves.heartbeat.interval"
	metricAlarms    = "sluice.sink.ves.alarms.open"
)

// Event outcomes.
const (
	outcomeSent       = "sent"
	outcomeRefused    = "refused"
	outcomeUnmappable = "unmappable"
	outcomeThinned    = "thinned"
)

type telemetry struct {
	tracer    trace.Tracer
	requests  *reqmetrics.Metrics
	events    metric.Int64Counter
	heartbeat metric.Int64Gauge
	alarms    metric.Int64Gauge
	sink      attribute.KeyValue
	meters    metric.MeterProvider
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	requests, err1 := reqmetrics.New(m, metricPrefix, reqmetrics.Descriptions{
		Requests: "Requests sent to the VES collector, by endpoint and status class.",
		Duration: "Time from sending a request to the VES collector to reading its answer.",
	})
	events, err3 := m.Int64Counter(metricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Events handled by the VES sink, by domain and outcome."))
	heartbeat, err4 := m.Int64Gauge(metricHeartbeat, metric.WithUnit("s"),
		metric.WithDescription("Heartbeat interval in force (configured, or as the collector commanded)."))
	alarms, err5 := m.Int64Gauge(metricAlarms, metric.WithUnit("{alarm}"),
		metric.WithDescription("Fault alarms raised and not yet cleared, as the VES sink has seen them."))
	if err := errors.Join(err1, err3, err4, err5); err != nil {
		return nil, err
	}
	return &telemetry{
		tracer: set.TracerProvider.Tracer(scope), requests: requests, events: events,
		heartbeat: heartbeat, alarms: alarms, sink: attribute.String("sink", set.ID), meters: set.MeterProvider,
	}, nil
}

// transport measures rt's requests under the OpenTelemetry HTTP client
// semantic conventions (http.client.request.duration, ...), with "sink"
// and "sink_type".
func (t *telemetry) transport(rt http.RoundTripper) http.RoundTripper {
	return httpclient.Instrument(rt, t.meters, t.sink, attribute.String("sink_type", Type))
}

// request counts one request; status is 0 when no answer came back.
func (t *telemetry) request(ctx context.Context, endpoint string, status int, seconds float64) {
	t.requests.Record(ctx, seconds, t.sink, attribute.String("endpoint", endpoint), attribute.String("status_class", httpclient.StatusClass(status)))
}

// event counts n events of domain with outcome.
func (t *telemetry) event(ctx context.Context, domain, outcome string, n int) {
	if n == 0 {
		return
	}
	t.events.Add(context.WithoutCancel(ctx), int64(n), metric.WithAttributes(t.sink,
		attribute.String("domain", domain), attribute.String("outcome", outcome)))
}
