package config

import (
	"reflect"
	"slices"
	"strings"
)

// refKinds are the `config` tags that mark a component setting as a
// reference to other components by name, checked like a route's from and
// to: a sink's `rules[].routes` (`config:"route"`), a source's
// `reply_after` sinks (`config:"sink"`).
var refKinds = []string{"route", "sink", "source"}

// reference is one name written in a component's settings for a field
// tagged with a refKind.
type reference struct {
	kind, path, name string
}

// collectRefs records the names decoded into field v (a string or a
// []string) at path as references of kind.
func (d *decoder) collectRefs(kind string, v reflect.Value, path string) {
	switch {
	case v.Kind() == reflect.String:
		if v.String() != "" {
			d.refs = append(d.refs, reference{kind, path, v.String()})
		}
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		for i := range v.Len() {
			if name := v.Index(i).String(); name != "" {
				d.refs = append(d.refs, reference{kind, indexPath(path, i), name})
			}
		}
	}
}

// checkComponentRefs checks the references in the settings of every
// source and sink: the name must be defined, with a did-you-mean; a
// route named by a sink must deliver to that sink (a warning otherwise:
// the rule can never apply).
func (p *parser) checkComponentRefs(doc *document, byName map[string]component, routes map[string]routeEntry) {
	routeNames := slices.Sorted(func(yield func(string) bool) {
		for n := range routes {
			if !yield(n) {
				return
			}
		}
	})
	for _, r := range p.dec.refs {
		if r.kind == "route" && len(routes) == 0 {
			continue // "at least one route is required" says it
		}
		owner, ownerKind := ownerOf(doc, r.path)
		n := p.dec.valueNode(r.path)
		switch r.kind {
		case "route":
			route, ok := routes[r.name]
			switch {
			case !ok:
				p.errs.add(n, r.path, nil, "%s %q: unknown route %s%s%s", ownerKind, owner, p.dec.show(r.path, r.name),
					didYouMean(r.name, routeNames), definedList("route", routeNames))
			case ownerKind == "sink" && !slices.Contains(route.To, owner):
				p.errs.warn(n, r.path, "route %q does not deliver to sink %q (its to: %s), so this never applies", r.name, owner, joinNames(route.To))
			}
		default:
			var defined []string
			for name, c := range byName {
				if c.kind == r.kind {
					defined = append(defined, name)
				}
			}
			slices.Sort(defined)
			switch c, ok := byName[r.name]; {
			case ok && c.kind != r.kind:
				p.errs.add(n, r.path, nil, "%s %q: %s is a %s, not a %s", ownerKind, owner, p.dec.show(r.path, r.name), c.kind, r.kind)
			case !ok:
				p.errs.add(n, r.path, nil, "%s %q: unknown %s %s%s%s", ownerKind, owner, r.kind, p.dec.show(r.path, r.name),
					didYouMean(r.name, defined), definedList(r.kind, defined))
			}
		}
	}
}

// ownerOf names the source or sink whose settings hold path
// ("sinks[2].with.rules[0].routes[1]").
func ownerOf(doc *document, path string) (name, kind string) {
	for i := range doc.Sinks {
		if strings.HasPrefix(path, indexPath("sinks", i)+".") {
			return doc.Sinks[i].Name, "sink"
		}
	}
	for i := range doc.Sources {
		if strings.HasPrefix(path, indexPath("sources", i)+".") {
			return doc.Sources[i].Name, "source"
		}
	}
	return "", "component"
}
