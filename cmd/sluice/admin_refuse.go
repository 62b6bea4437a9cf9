package main

import (
	"context"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// metricAdminRefused counts admin requests refused, by listener ("socket"
// or "tcp") and reason ("peer": a user the socket does not accept;
// "token": a missing or wrong bearer token; "host": a Host that is not
// one of the listener's names; "cross_site": a browser request from
// another site's page).
const metricAdminRefused = "sluice.admin.requests.refused"

// newAdminRefusals returns the refusal counter of the engine's meter.
func newAdminRefusals(mp metric.MeterProvider) (metric.Int64Counter, error) {
	return mp.Meter("github.com/sluice-dev/sluice/cmd/sluice").Int64Counter(metricAdminRefused,
		metric.WithUnit("{request}"),
		metric.WithDescription("Admin requests refused, by listener and reason (peer, token, host, cross_site)."))
}

// refused logs and counts a refused request; attrs say who asked (the
// peer's uid on the socket, the remote address on TCP), never a token.
func (a *admin) refused(r *http.Request, listener, reason string, err error, attrs ...slog.Attr) {
	if a.refusals != nil {
		a.refusals.Add(context.WithoutCancel(r.Context()), 1, metric.WithAttributes(
			attribute.String("listener", listener), attribute.String("reason", reason)))
	}
	attrs = append(attrs, slog.String("listener", listener), slog.String("reason", reason),
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	a.log.LogAttrs(r.Context(), slog.LevelWarn, "admin request refused", attrs...)
}
