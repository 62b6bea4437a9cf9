package pipeline

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// sinkThrottles holds a sink's throttles: one per route that has a
// throttle, and the sink's own for the other routes.
type sinkThrottles struct {
	byRoute map[string]*throttle
	sink    *throttle
}

func newSinkThrottles(sinkSpec *ThrottleSpec, routes []RouteSpec, sink string) *sinkThrottles {
	t := &sinkThrottles{byRoute: map[string]*throttle{}}
	if sinkSpec != nil {
		t.sink = newThrottle(*sinkSpec)
	}
	for i := range routes {
		if routes[i].Throttle != nil {
			for _, to := range routes[i].To {
				if to == sink {
					t.byRoute[routes[i].Name] = newThrottle(*routes[i].Throttle)
				}
			}
		}
	}
	return t
}

func (t *sinkThrottles) forRoute(route string) *throttle {
	if th, ok := t.byRoute[route]; ok {
		return th
	}
	return t.sink
}

func (t *sinkThrottles) all(fn func(*throttle)) {
	for _, th := range t.byRoute {
		fn(th)
	}
	if t.sink != nil {
		fn(t.sink)
	}
}

// next is when the earliest held delivery of any throttle is due.
func (t *sinkThrottles) next() (time.Time, bool) {
	var at time.Time
	found := false
	t.all(func(th *throttle) {
		if n, ok := th.next(); ok && (!found || n.Before(at)) {
			at, found = n, true
		}
	})
	return at, found
}

// oldestPending is the smallest sequence any throttle holds, or 0.
func (t *sinkThrottles) oldestPending() uint64 {
	var oldest uint64
	t.all(func(th *throttle) {
		if p := th.oldestPending(); p != 0 && (oldest == 0 || p < oldest) {
			oldest = p
		}
	})
	return oldest
}

// throttle passes deliveries through the sink's throttles (pass) at the
// clock's now, counting and logging the outcomes.
func (s *sinkRunner) throttle(ctx context.Context, in []Delivery) []Delivery {
	if s.throttles.empty() {
		return in
	}
	return s.throttles.pass(s.clock.Now(), in, func(outcome string, d *Delivery, err error) {
		if err != nil {
			s.log.Warn("throttle could not evaluate an event; delivering it unthrottled",
				slog.Uint64("seq", d.Event.Sequence), slog.String("error", err.Error()))
			return
		}
		s.tel.sinkThrottled.Add(ctx, 1, s.attrs, metric.WithAttributes(attribute.String("outcome", outcome)))
	})
}

// empty reports whether the sink has no throttle at all.
func (t *sinkThrottles) empty() bool { return t.sink == nil && len(t.byRoute) == 0 }

// pass returns what to deliver at now: the held deliveries that came due,
// then those of in let through, in sequence order. note is told each
// delivery held back ("held"), superseded by a newer one ("superseded"),
// let through past MaxKeys ("overflow"), or that could not be evaluated
// (err set: it is let through). Used by the consumer and by Simulate.
func (t *sinkThrottles) pass(now time.Time, in []Delivery, note func(outcome string, d *Delivery, err error)) []Delivery {
	var out []Delivery
	t.all(func(th *throttle) { out = append(out, th.due(now)...) })
	for i := range in {
		d := &in[i]
		th := t.forRoute(d.Route)
		if th == nil {
			out = append(out, *d)
			continue
		}
		res, superseded, err := th.offer(*d, now)
		if superseded != nil {
			note("superseded", superseded, nil)
		}
		switch {
		case err != nil:
			note("", d, err)
			out = append(out, *d)
		case res == throttleHeld:
			note("held", d, nil)
		case res == throttleOverflow:
			note("overflow", d, nil)
			out = append(out, *d)
		default:
			out = append(out, *d)
		}
	}
	sortBySequence(out)
	return out
}
