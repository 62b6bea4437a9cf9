package pipeline

import "slices"

// sinkRoutes selects, for one sink, which journal records it must deliver
// and under which route, applying the route's match and transform.
type sinkRoutes struct {
	sink string
	// byOrigin lists, per source name, the routes (in configuration order)
	// that may send its events to this sink.
	byOrigin map[string][]*RouteSpec
}

func newSinkRoutes(sink string, routes []RouteSpec) *sinkRoutes {
	r := &sinkRoutes{sink: sink, byOrigin: make(map[string][]*RouteSpec)}
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
// Events whose match or transform fails are returned as rejected, to be
// dead-lettered.
func (r *sinkRoutes) batch(records []Record) (b *messageBatch, rejected []rejection) {
	b = &messageBatch{}
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
		ok, err := rt.Match.Match(e)
		if err != nil {
			return d, false, &rejection{delivery: d, reason: ReasonMatchFailed, err: err}
		}
		if !ok {
			return d, false, nil
		}
	}
	if rt.Transform != nil {
		out, err := rt.Transform.Transform(*e)
		if err != nil {
			return d, false, &rejection{delivery: d, reason: ReasonTransformFailed, err: err}
		}
		out.Sequence, out.Origin = e.Sequence, e.Origin
		d.Event = out
	}
	return d, true, nil
}
