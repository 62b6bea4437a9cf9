package config

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/journal"
)

// namePattern is what component and route names must match: they appear
// in metrics, logs and journal cursor names.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// component is a named source or sink, for reference checks.
type component struct {
	kind, name, path string
}

// checkReferences checks names and the routes between components. Sources
// and sinks share one namespace so that a name in a metric or log line is
// never ambiguous.
func (p *parser) checkReferences(doc *document) {
	byName := map[string]component{}
	var sources, sinks []string
	add := func(kind, name, path string) bool {
		if !p.checkName(joinPath(path, "name"), kind, name) {
			return false
		}
		if prev, ok := byName[name]; ok {
			first := p.dec.valueNode(joinPath(prev.path, "name"))
			p.errs.add(p.dec.valueNode(joinPath(path, "name")), joinPath(path, "name"), nil,
				"duplicate name %q: %s at line %d, column %d has it already", name, prev.path, first.Line, first.Column)
			return false
		}
		byName[name] = component{kind, name, path}
		return true
	}
	router := doc.Journal.Backend == journal.BackendNATS && doc.Journal.NATS.Role == fleet.RoleRouter
	for i, s := range doc.Sources {
		if router {
			path := indexPath("sources", i)
			p.errs.add(p.dec.valueNode(joinPath(path, "name")), joinPath(path, "name"), nil,
				"a fleet router (journal.nats.role: router) has no sources of its own: run source %q on an agent and name it in journal.nats.router.sources", s.Name)
			continue
		}
		if add("source", s.Name, indexPath("sources", i)) {
			sources = append(sources, s.Name)
		}
	}
	if router {
		// The agents' sources: routes name them, records carry them as
		// their origin.
		for i, name := range doc.Journal.NATS.Router.Sources {
			path := indexPath("journal.nats.router.sources", i)
			if p.checkName(path, "source", name) {
				byName[name] = component{"source", name, path}
				sources = append(sources, name)
			}
		}
	}
	for i, s := range doc.Sinks {
		if add("sink", s.Name, indexPath("sinks", i)) {
			sinks = append(sinks, s.Name)
		}
	}
	if router {
		p.requireSome("journal.nats.router.sources", "agent source", len(doc.Journal.NATS.Router.Sources))
	} else {
		p.requireSome("sources", "source", len(doc.Sources))
	}
	p.requireSome("sinks", "sink", len(doc.Sinks))
	p.requireSome("routes", "route", len(doc.Routes))

	used := map[string]bool{}
	routeNames := map[string]string{}
	routes := map[string]routeEntry{}
	for i, r := range doc.Routes {
		path := indexPath("routes", i)
		if p.checkName(joinPath(path, "name"), "route", r.Name) {
			if prev, ok := routeNames[r.Name]; ok {
				first := p.dec.valueNode(joinPath(prev, "name"))
				p.errs.add(p.dec.valueNode(joinPath(path, "name")), joinPath(path, "name"), nil,
					"duplicate route name %q: %s at line %d, column %d has it already", r.Name, prev, first.Line, first.Column)
			} else {
				routeNames[r.Name] = path
				routes[r.Name] = r
			}
		}
		p.checkRefs(r.Name, joinPath(path, "from"), "source", r.From, byName, sources, used)
		p.checkRefs(r.Name, joinPath(path, "to"), "sink", r.To, byName, sinks, used)
	}
	for _, c := range byName {
		if !used[c.name] && len(doc.Routes) > 0 {
			p.errs.warn(p.dec.valueNode(joinPath(c.path, "name")), c.path, "%s %q is not used by any route", c.kind, c.name)
		}
	}
	p.checkComponentRefs(doc, byName, routes)
}

// checkRefs checks the names in one route's from (kind "source") or to
// (kind "sink") list.
func (p *parser) checkRefs(route, path, kind string, names []string, byName map[string]component, defined []string, used map[string]bool) {
	if names == nil {
		return // missing: reported already
	}
	if len(names) == 0 {
		p.errs.add(p.dec.valueNode(path), path, nil, "route %q: %s list is empty; name at least one %s", route, lastKey(path), kind)
		return
	}
	seen := map[string]bool{}
	for i, name := range names {
		ip := indexPath(path, i)
		n := p.dec.valueNode(ip)
		c, ok := byName[name]
		switch {
		case seen[name]:
			p.errs.add(n, ip, nil, "route %q: %s %s is listed twice", route, kind, p.dec.show(ip, name))
		case ok && c.kind != kind:
			p.errs.add(n, ip, nil, "route %q: %s is a %s, not a %s", route, p.dec.show(ip, name), c.kind, kind)
		case !ok && len(defined) == 0:
			// "at least one ... is required" or a bad name explains it.
		case !ok:
			p.errs.add(n, ip, nil, "route %q: unknown %s %s%s", route, kind, p.dec.show(ip, name), definedList(kind, defined))
		default:
			used[name] = true
		}
		seen[name] = true
	}
}

func definedList(kind string, defined []string) string {
	sorted := slices.Sorted(slices.Values(defined))
	return fmt.Sprintf(" (defined %ss: %s)", kind, joinNames(sorted))
}

// checkName reports an invalid name; an empty one is a missing required
// key, reported already.
func (p *parser) checkName(path, kind, name string) bool {
	if name == "" {
		return false
	}
	if !namePattern.MatchString(name) {
		p.errs.add(p.dec.valueNode(path), path, nil,
			"invalid %s name %s: use letters, digits, '_', '.' and '-', starting with a letter or digit", kind, p.dec.show(path, name))
		return false
	}
	return true
}

// requireSome reports an empty or missing section.
func (p *parser) requireSome(key, kind string, n int) {
	if n == 0 {
		p.errs.add(p.dec.keyNode(key), key, nil, "at least one %s is required", kind)
	}
}

func lastKey(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' {
			return path[i+1:]
		}
	}
	return path
}
