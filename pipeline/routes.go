package pipeline

// sinkRoutes selects, for one sink, which journal records it must deliver
// and under which route.
type sinkRoutes struct {
	sink string
	// routeByOrigin maps a source name to the first route (in
	// configuration order) that sends it to this sink. An event reaches a
	// sink once however many routes select it: the delivery key is the same.
	routeByOrigin map[string]string
}

func newSinkRoutes(sink string, routes []RouteSpec) *sinkRoutes {
	r := &sinkRoutes{sink: sink, routeByOrigin: make(map[string]string)}
	for _, rt := range routes {
		to := false
		for _, s := range rt.To {
			if s == sink {
				to = true
				break
			}
		}
		if !to {
			continue
		}
		for _, src := range rt.From {
			if _, ok := r.routeByOrigin[src]; !ok {
				r.routeByOrigin[src] = rt.Name
			}
		}
	}
	return r
}

// batch returns the deliveries for this sink among records, in order.
func (r *sinkRoutes) batch(records []Record) *messageBatch {
	return &messageBatch{deliveries: r.deliveries(records)}
}

// deliveries returns the deliveries for this sink among records, in order.
func (r *sinkRoutes) deliveries(records []Record) []Delivery {
	var out []Delivery
	for i := range records {
		e := &records[i].Event
		route, ok := r.routeByOrigin[e.Origin]
		if !ok {
			continue
		}
		if out == nil {
			out = make([]Delivery, 0, len(records)-i)
		}
		out = append(out, Delivery{Event: *e, Key: IdempotencyKey(e.Source, e.ID, r.sink), Route: route})
	}
	return out
}
