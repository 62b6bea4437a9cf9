package vmfaultsource

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// scope is the tracer and meter instrumentation scope.
const scope = "github.com/sluice-dev/sluice/sources/vmfaultsource"

// Metric names. Every instrument carries "source" (the component's name).
//
//	sluice.source.vmfault.polls           counter  polls, by result (ok, error)
//	sluice.source.vmfault.errors          counter  failed attempts, by reason (auth, status_4xx, status_5xx, rate_limited, malformed, transport, emit)
//	sluice.source.vmfault.faults.raised   counter  fault episodes raised
//	sluice.source.vmfault.faults.cleared  counter  fault episodes cleared, by reason
//	sluice.source.vmfault.unknown         counter  server records that could not tell (UNKNOWN)
//	sluice.source.vmfault.maintenance     counter  maintenance events emitted, by state
const (
	metricPolls       = "sluice.source.vmfault.polls"
	metricErrors      = "sluice.source.vmfault.errors"
	metricRaised      = "sluice.source.vmfault.faults.raised"
	metricCleared     = "sluice.source.vmfault.faults.cleared"
	metricUnknown     = "sluice.source.vmfault.unknown"
	metricMaintenance = "sluice.source.vmfault.maintenance"
)

type telemetry struct {
	tracer      trace.Tracer
	polls       metric.Int64Counter
	errors      metric.Int64Counter
	raised      metric.Int64Counter
	cleared     metric.Int64Counter
	unknown     metric.Int64Counter
	maintenance metric.Int64Counter
	source      attribute.KeyValue
}

func newTelemetry(set pipeline.Settings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scope)
	polls, e1 := m.Int64Counter(metricPolls, metric.WithUnit("{poll}"), metric.WithDescription("Polls completed, by result."))
	errs, e2 := m.Int64Counter(metricErrors, metric.WithUnit("{error}"), metric.WithDescription("Failed poll attempts, each retried, by reason."))
	raised, e3 := m.Int64Counter(metricRaised, metric.WithUnit("{fault}"), metric.WithDescription("VM fault episodes raised."))
	cleared, e4 := m.Int64Counter(metricCleared, metric.WithUnit("{fault}"), metric.WithDescription("VM fault episodes cleared, by reason."))
	unknown, e5 := m.Int64Counter(metricUnknown, metric.WithUnit("{record}"), metric.WithDescription("Server records in an unknown state (neither a fault nor a clear)."))
	maint, e6 := m.Int64Counter(metricMaintenance, metric.WithUnit("{event}"), metric.WithDescription("Scheduled maintenance events emitted, by state."))
	if err := errors.Join(e1, e2, e3, e4, e5, e6); err != nil {
		return nil, err
	}
	return &telemetry{
		tracer: set.TracerProvider.Tracer(scope), polls: polls, errors: errs, raised: raised, cleared: cleared,
		unknown: unknown, maintenance: maint, source: attribute.String("source", set.ID),
	}, nil
}

func (t *telemetry) add(ctx context.Context, c metric.Int64Counter, n int64, kv ...attribute.KeyValue) {
	if n == 0 {
		return
	}
	c.Add(ctx, n, metric.WithAttributes(append([]attribute.KeyValue{t.source}, kv...)...))
}

// errorReason classifies a failed attempt for the errors counter.
func errorReason(err error) string {
	code := statusOf(err)
	switch {
	case errors.Is(err, errEmit):
		return "emit"
	case code == 401 || code == 403:
		return "auth"
	case code == 429:
		return "rate_limited"
	case code >= 500:
		return "status_5xx"
	case code >= 400:
		return "status_4xx"
	case code != 0:
		return "status_other"
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrTooLarge), errors.Is(err, ErrEndpointNotFound):
		return "malformed"
	}
	return "transport"
}
