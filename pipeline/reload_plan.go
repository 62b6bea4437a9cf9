package pipeline

import (
	"reflect"
	"slices"
)

// reloadPlan is what a Reload changes, by component name, in the order of
// the new Spec (removed ones in the order of the old).
type reloadPlan struct {
	addSources, removeSources, changeSources []string
	addSinks, removeSinks, changeSinks       []string
	// rerouteSinks are unchanged sinks whose routes changed: only their
	// consumer restarts.
	rerouteSinks []string
}

// planReload compares old and next component by component: a source or
// sink is changed when its type or settings differ (settings by value, so
// that a secret read from a file that changed counts), a sink is
// rerouted when the routes that deliver to it differ, in order.
func planReload(old, next *Spec) reloadPlan {
	var pl reloadPlan
	oldSources := map[string]*SourceSpec{}
	for i := range old.Sources {
		oldSources[old.Sources[i].Name] = &old.Sources[i]
	}
	for i := range next.Sources {
		ss := &next.Sources[i]
		switch o, ok := oldSources[ss.Name]; {
		case !ok:
			pl.addSources = append(pl.addSources, ss.Name)
		case !sameSource(o, ss):
			pl.changeSources = append(pl.changeSources, ss.Name)
		}
	}
	for _, ss := range old.Sources {
		if !slices.ContainsFunc(next.Sources, func(n SourceSpec) bool { return n.Name == ss.Name }) {
			pl.removeSources = append(pl.removeSources, ss.Name)
		}
	}
	oldSinks := map[string]*SinkSpec{}
	for i := range old.Sinks {
		oldSinks[old.Sinks[i].Name] = &old.Sinks[i]
	}
	for i := range next.Sinks {
		ks := &next.Sinks[i]
		switch o, ok := oldSinks[ks.Name]; {
		case !ok:
			pl.addSinks = append(pl.addSinks, ks.Name)
		case !sameSink(o, ks):
			pl.changeSinks = append(pl.changeSinks, ks.Name)
		case !sameRoutes(routesTo(old.Routes, ks.Name), routesTo(next.Routes, ks.Name)):
			pl.rerouteSinks = append(pl.rerouteSinks, ks.Name)
		}
	}
	for _, ks := range old.Sinks {
		if !slices.ContainsFunc(next.Sinks, func(n SinkSpec) bool { return n.Name == ks.Name }) {
			pl.removeSinks = append(pl.removeSinks, ks.Name)
		}
	}
	return pl
}

func sameSource(a, b *SourceSpec) bool {
	return a.Type == b.Type && reflect.DeepEqual(a.Config, b.Config)
}

func sameSink(a, b *SinkSpec) bool {
	if a.Type != b.Type || a.Retry != b.Retry || a.Batch != b.Batch || !a.StartAt.Time.Equal(b.StartAt.Time) ||
		a.StartAt.Newest != b.StartAt.Newest || !reflect.DeepEqual(a.Config, b.Config) {
		return false
	}
	if a.Fingerprint != "" || b.Fingerprint != "" {
		return a.Fingerprint == b.Fingerprint
	}
	return reflect.DeepEqual(a.Throttle, b.Throttle)
}

// routesTo returns the routes that deliver to sink, in order.
func routesTo(routes []RouteSpec, sink string) []RouteSpec {
	var out []RouteSpec
	for _, r := range routes {
		if slices.Contains(r.To, sink) {
			out = append(out, r)
		}
	}
	return out
}

// sameRoutes compares two sinks' routes in order. The other sinks a route
// delivers to do not matter to this sink.
func sameRoutes(a, b []RouteSpec) bool {
	return slices.EqualFunc(a, b, func(x, y RouteSpec) bool {
		if x.Name != y.Name || x.OnError != y.OnError || !slices.Equal(x.From, y.From) {
			return false
		}
		if x.Fingerprint != "" || y.Fingerprint != "" {
			return x.Fingerprint == y.Fingerprint
		}
		return reflect.DeepEqual(x.Match, y.Match) && reflect.DeepEqual(x.Transform, y.Transform) &&
			reflect.DeepEqual(x.Throttle, y.Throttle)
	})
}
