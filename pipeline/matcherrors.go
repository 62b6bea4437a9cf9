package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Route match error policies (RouteSpec.OnError).
const (
	// OnErrorNoMatch, the default (also the zero value ""), counts a match
	// that cannot be evaluated on an event (a missing key, a type error)
	// as no match: a later route may still select the event. It is
	// counted in sluice.route.match_errors and logged at most once per
	// matchErrorLogInterval per route.
	OnErrorNoMatch = "no_match"
	// OnErrorDeadLetter dead-letters the event for the route's sinks with
	// reason "match failed".
	OnErrorDeadLetter = "dead_letter"
)

// matchErrorLogInterval bounds how often one route's match errors are
// logged; the metric counts every one.
const matchErrorLogInterval = time.Minute

// matchErrors counts match errors per route and logs them, rate-limited.
// It is shared by every sink's routes and safe for concurrent use.
type matchErrors struct {
	counter metric.Int64Counter
	log     *slog.Logger
	clock   Clock

	mu     sync.Mutex
	routes map[string]*matchErrorLog
}

type matchErrorLog struct {
	attrs      metric.MeasurementOption
	lastLogged time.Time
	suppressed int
}

func newMatchErrors(tel *telemetry, log *slog.Logger, clock Clock) *matchErrors {
	return &matchErrors{counter: tel.routeMatchErrors, log: log, clock: clock, routes: map[string]*matchErrorLog{}}
}

// note records that route's match failed on e.
func (m *matchErrors) note(route string, e *Event, err error) {
	logIt, suppressed, attrs := m.allow(route)
	m.counter.Add(context.Background(), 1, attrs)
	if logIt {
		m.log.Warn("route match could not be evaluated; counted as no match", slog.String("route", route),
			slog.Uint64("seq", e.Sequence), slog.String("id", e.ID), slog.String("error", err.Error()),
			slog.Int("suppressed_since_last_log", suppressed))
	}
}

// allow reports whether something about key may be logged now (at most
// once per matchErrorLogInterval), and how many were not since.
func (m *matchErrors) allow(key string) (bool, int, metric.MeasurementOption) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rl, ok := m.routes[key]
	if !ok {
		rl = &matchErrorLog{attrs: metric.WithAttributeSet(attribute.NewSet(attribute.String("route", key)))}
		m.routes[key] = rl
	}
	now := m.clock.Now()
	if !rl.lastLogged.IsZero() && now.Sub(rl.lastLogged) < matchErrorLogInterval {
		rl.suppressed++
		return false, 0, rl.attrs
	}
	suppressed := rl.suppressed
	rl.lastLogged, rl.suppressed = now, 0
	return true, suppressed, rl.attrs
}
