package pipeline

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
)

// sinkRoutes selects, for one sink, which journal records it must deliver
// and under which route, applying the route's match and transform.
type sinkRoutes struct {
	sink string
	// byOrigin lists, per source name, the routes (in configuration order)
	// that may send its events to this sink.
	byOrigin map[string][]*RouteSpec
	// matchErrs counts and logs matches that could not be evaluated.
	matchErrs *matchErrors
}

func newSinkRoutes(sink string, routes []RouteSpec, matchErrs *matchErrors) *sinkRoutes {
	r := &sinkRoutes{sink: sink, byOrigin: make(map[string][]*RouteSpec), matchErrs: matchErrs}
	for i := range routes {
		rt := &routes[i]
		if !slices.Contains(rt.To, sink) {
			continue
		}
		for _, src := range rt.From {
			if !slices.Contains(r.byOrigin[src], rt) {
				r.byOrigin[src] = append(r.byOrigin[src], rt)
			}
		}
	}
	return r
}

// batch returns the deliveries for this sink among records, in order. An
// event goes to the sink once, through the first route (in configuration
// order) that selects it: the delivery key is the same whichever route.
// A match that cannot be evaluated counts as no match (the next route
// may select the event), unless the route says on_error: dead_letter.
// Events so rejected, and those whose transform fails, are returned as
// rejected, to be dead-lettered. The deliveries are appended to dst[:0]
// (a new array when it has no room and dst is nil or too small).
func (r *sinkRoutes) batch(records []Record, dst []Delivery) (b batch, rejected []rejection) {
	if cap(dst) >= len(records) {
		b.deliveries = dst[:0]
	}
	for i := range records {
		e := &records[i].Event
		routes := r.byOrigin[e.Origin]
		for _, rt := range routes {
			d, ok, rej := r.route(rt, e)
			if rej != nil {
				rejected = append(rejected, *rej)
				break
			}
			if ok {
				if b.deliveries == nil {
					b.deliveries = make([]Delivery, 0, len(records)-i)
				}
				b.deliveries = append(b.deliveries, d)
				break
			}
		}
	}
	return b, rejected
}

// rejection is an event a route could not evaluate or transform.
type rejection struct {
	delivery Delivery
	reason   string
	err      error
}

// route applies one route to e.
func (r *sinkRoutes) route(rt *RouteSpec, e *Event) (Delivery, bool, *rejection) {
	d := Delivery{Event: *e, Key: IdempotencyKey(e.Source, e.ID, r.sink), Route: rt.Name}
	if rt.Match != nil {
		ok, err := r.match(rt, e)
		if err != nil {
			if rt.OnError == OnErrorDeadLetter {
				return d, false, &rejection{delivery: d, reason: ReasonMatchFailed, err: err}
			}
			r.matchErrs.note(rt.Name, e, err)
			return d, false, nil
		}
		if !ok {
			return d, false, nil
		}
	}
	if rt.Transform != nil {
		out, err := r.transform(rt, e)
		if err != nil {
			return d, false, &rejection{delivery: d, reason: ReasonTransformFailed, err: err}
		}
		out.Sequence, out.Origin = e.Sequence, e.Origin
		d.Event = out
	}
	return d, true, nil
}

// match evaluates rt's match on e; a panic is an evaluation error.
func (r *sinkRoutes) match(rt *RouteSpec, e *Event) (ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ok, err = false, r.panicked(rt, "match", p)
		}
	}()
	return rt.Match.Match(e)
}

// transform applies rt's transform to e; a panic is a transform error.
func (r *sinkRoutes) transform(rt *RouteSpec, e *Event) (out Event, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = r.panicked(rt, "transform", p)
		}
	}()
	return rt.Transform.Transform(*e)
}

// panicked turns a route's panic into its error, logged with the stack
// (at most once a minute per route and call: a matcher that panics on
// every event must not flood the log).
func (r *sinkRoutes) panicked(rt *RouteSpec, what string, p any) error {
	err := &panicError{what: fmt.Sprintf("route %s %s", rt.Name, what), value: p}
	if ok, suppressed, _ := r.matchErrs.allow("\x00panic " + err.what); ok {
		r.matchErrs.log.Error("component panicked", slog.String("component_call", err.what), slog.Any("panic", p),
			slog.String("stack", string(debug.Stack())), slog.Int("suppressed_since_last_log", suppressed))
	}
	return err
}
