package config

import (
	"fmt"

	"github.com/sluice-dev/sluice/pipeline"
)

// routeEntry is one route as written.
type routeEntry struct {
	Name      string           `yaml:"name" config:"required"`
	From      []string         `yaml:"from" config:"required"`
	To        []string         `yaml:"to" config:"required"`
	Match     *MatchConfig     `yaml:"match"`
	Transform *TransformConfig `yaml:"transform"`
	Throttle  *ThrottleConfig  `yaml:"throttle"`
	// OnError is what an event whose match cannot be evaluated becomes:
	// no_match (the default) or dead_letter.
	OnError OnError `yaml:"on_error"`
}

// OnError is a route's match error policy (pipeline.RouteSpec.OnError).
type OnError string

// UnmarshalText implements encoding.TextUnmarshaler, accepting only the
// defined policies.
func (o *OnError) UnmarshalText(text []byte) error {
	switch v := string(text); v {
	case pipeline.OnErrorNoMatch, pipeline.OnErrorDeadLetter:
		*o = OnError(v)
		return nil
	}
	return fmt.Errorf("want %s or %s, got %q", pipeline.OnErrorNoMatch, pipeline.OnErrorDeadLetter, text)
}

// MatchConfig selects the events a route delivers. Every condition given
// must hold (they are ANDed); an empty match selects everything.
type MatchConfig struct {
	// Types are globs over the event type ("sluice.probe.*"); the event
	// matches if any matches. * matches any run of characters (crossing
	// '.' and '/'), ? one; see internal/glob.
	Types []string `yaml:"types"`
	// Severity selects events at or above this level.
	Severity *pipeline.Severity `yaml:"severity"`
	// Subjects are globs over the subject, as Types.
	Subjects []string `yaml:"subjects"`
	// Attributes maps extension attribute names to globs their value must
	// match; a missing attribute does not match.
	Attributes map[string]string `yaml:"attributes"`
	// Expr is a CEL expression over `event` that must be true. See
	// doc.go for the variables.
	Expr string `yaml:"expr"`
}

// TransformConfig rewrites the events a route delivers. Values of Set,
// Type and Subject are Go text/template templates over the event (see
// doc.go); they are checked at load.
type TransformConfig struct {
	// Set sets extension attributes.
	Set map[string]string `yaml:"set"`
	// Rename renames extension attributes (old: new).
	Rename map[string]string `yaml:"rename"`
	// Drop removes extension attributes.
	Drop []string `yaml:"drop"`
	// Type and Subject replace the event's type and subject.
	Type    string `yaml:"type"`
	Subject string `yaml:"subject"`
}

// buildRoutes compiles the routes' matches and transforms, reporting
// every problem at its position.
func (p *parser) buildRoutes(entries []routeEntry) []pipeline.RouteSpec {
	specs := make([]pipeline.RouteSpec, 0, len(entries))
	for i, r := range entries {
		path := indexPath("routes", i)
		spec := pipeline.RouteSpec{Name: r.Name, From: r.From, To: r.To, OnError: string(r.OnError)}
		asWritten := r
		asWritten.To = nil // the other sinks of a route do not concern a sink
		spec.Fingerprint = fingerprint(asWritten)
		if r.Match != nil {
			if m, ok := p.compileMatch(joinPath(path, "match"), r.Match); ok && m != nil {
				spec.Match = m
			}
		}
		if r.Transform != nil {
			if t, ok := p.compileTransform(joinPath(path, "transform"), r.Transform); ok && t != nil {
				spec.Transform = t
			}
		}
		if r.Throttle != nil {
			if t, ok := p.compileThrottle(joinPath(path, "throttle"), r.Throttle); ok {
				spec.Throttle = t
			}
		}
		specs = append(specs, spec)
	}
	return specs
}
