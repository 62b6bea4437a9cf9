package lbworkersource

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/internal/reqmetrics"
	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sources/lbworkersource"

// Metric names. Every instrument carries "source" (the component's name);
// requests and duration also carry "transport" (gearman, http), "action"
// (UPDATE, ..., or unknown for a refused message) and "outcome" (pass,
// fail, bad_request, duplicate, not_journaled, not_applied).
//
//	sluice.source.lbworker.requests          counter    requests answered
//	sluice.source.lbworker.request.duration  histogram  seconds from request to reply
//	sluice.source.lbworker.gearman.connected updown     gearman connections registered
//	sluice.source.lbworker.state_events      counter    sluice.lb.state events emitted
const (
	metricPrefix      = "sluice.source.lbworker" // .requests and .request.duration (reqmetrics)
	metricConnected   = "sluice.source.lbworker.gearman.connected"
	metricStateEvents = "sluice.source.lbworker.state_events"
)

type telemetry struct {
	tracer trace.Tracer
	// tracing is false when the tracer provider is the no-op one: then a
	// request starts no span (a no-op span still costs a context).
	tracing   bool
	requests  *reqmetrics.Metrics
	connected metric.Int64UpDownCounter
	states    metric.Int64Counter
	source    attribute.KeyValue
	// sets holds the requests' attribute sets of every transport, action
	// and outcome, built once: read-only after newTelemetry, so lookups
	// need no lock and a request allocates none.
	sets map[requestAttrs]metric.MeasurementOption
}

// requestAttrs are the per-request attributes besides "source".
type requestAttrs struct{ transport, action, outcome string }

// actionUnknown is the "action" attribute of a refused message.
const actionUnknown = "unknown"

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	requests, err1 := reqmetrics.New(m, metricPrefix, reqmetrics.Descriptions{
		Requests: "Load-balancer requests answered, by transport, action and outcome.",
		Duration: "Time from receiving a request to its reply, including the durable append.",
	})
	connected, err3 := m.Int64UpDownCounter(metricConnected, metric.WithUnit("{connection}"),
		metric.WithDescription("Gearman worker connections currently registered."))
	states, err4 := m.Int64Counter(metricStateEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Load-balancer state changes emitted as sluice.lb.state events."))
	if err := errors.Join(err1, err3, err4); err != nil {
		return nil, err
	}
	_, noop := set.TracerProvider.(tracenoop.TracerProvider)
	t := &telemetry{
		tracer: set.TracerProvider.Tracer(scope), tracing: !noop, requests: requests,
		connected: connected, states: states, source: attribute.String("source", set.ID),
		sets: map[requestAttrs]metric.MeasurementOption{},
	}
	actions := []string{actionUnknown}
	for _, a := range libra.Actions {
		actions = append(actions, string(a))
	}
	for _, tr := range []string{libra.TransportGearman, libra.TransportHTTP} {
		for _, a := range actions {
			for _, o := range outcomes {
				k := requestAttrs{tr, a, o}
				t.sets[k] = t.attributeSet(k)
			}
		}
	}
	return t, nil
}

func (t *telemetry) attributeSet(k requestAttrs) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(t.source, attribute.String("transport", k.transport),
		attribute.String("action", k.action), attribute.String("outcome", k.outcome)))
}

// record counts and times one answered request, with the prepared
// attribute set of its transport, action and outcome.
func (t *telemetry) record(ctx context.Context, transport, action, outcome string, seconds float64) {
	k := requestAttrs{transport, action, outcome}
	set, ok := t.sets[k]
	if !ok { // every combination is prepared; kept correct regardless
		set = t.attributeSet(k)
	}
	t.requests.RecordSet(ctx, seconds, set)
}

func (t *telemetry) stateEvents(ctx context.Context, n int) {
	t.states.Add(context.WithoutCancel(ctx), int64(n), metric.WithAttributes(t.source))
}

func (t *telemetry) gearmanUp(up bool) {
	n := int64(1)
	if !up {
		n = -1
	}
	t.connected.Add(context.Background(), n, metric.WithAttributes(t.source))
}
