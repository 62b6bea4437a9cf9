package vessink

import (
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/internal/glob"
	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
)

// builtinRules is the default mapping, applied after the configured rules.
// Events no rule matches go to Config.DefaultDomain.
var builtinRules = []Rule{
	{Types: []string{eventtypes.Heartbeat, eventtypes.Heartbeat + ".*"}, Domain: DomainHeartbeat},
	{
		Types:  []string{eventtypes.VMFault, eventtypes.VMFault + ".*"},
		Domain: DomainFault, EventSourceType: "virtualMachine", AlarmCondition: "VmFailure",
	},
	{
		Types:  []string{eventtypes.ProbeFailure, eventtypes.ProbeFailure + ".*", eventtypes.ProbeFault, eventtypes.ProbeFault + ".*"},
		Domain: DomainFault, EventSourceType: "other", AlarmCondition: "ProbeFailure",
	},
	{Types: []string{eventtypes.ProbeState, eventtypes.ProbeState + ".*", eventtypes.LBState, eventtypes.LBState + ".*"}, Domain: DomainStateChange},
}

// matches reports whether the rule applies to an event of type typ that
// came through route.
func (r *Rule) matches(route, typ string) bool {
	if len(r.Routes) > 0 && !slices.Contains(r.Routes, route) {
		return false
	}
	if len(r.Types) == 0 {
		return true
	}
	return glob.Any(r.Types, typ)
}

// ruleFor returns the first configured rule, then built-in rule, that
// matches e, or a rule for the default domain. Built-in rules apply only
// to events one of Sluice's own sources emitted (reserved.FromEngine):
// an ingest client cannot raise or clear an alarm through them.
func (m *mapper) ruleFor(route string, e *pipeline.Event) *Rule {
	typ := e.Type
	for i := range m.rules {
		if m.rules[i].matches(route, typ) {
			return &m.rules[i]
		}
	}
	if !reserved.FromEngine(e) {
		return &m.fallback
	}
	for i := range builtinRules {
		if builtinRules[i].matches(route, typ) {
			return &builtinRules[i]
		}
	}
	return &m.fallback
}

// VES states.
const (
	stateInService    = "inService"
	stateMaintenance  = "maintenance"
	stateOutOfService = "outOfService"
)

// stateNames maps the state words sources use (lower-cased) to VES states.
var stateNames = func() map[string]string {
	m := make(map[string]string)
	for st, names := range map[string][]string{
		stateInService: {
			"inservice", "in_service", "in-service", "healthy", "up", "ok", "pass", "passed", "passing",
			"success", "succeeded", "ready", "active", "online", "running", "available", "enabled", "green",
		},
		stateOutOfService: {
			"outofservice", "out_of_service", "out-of-service", "unhealthy", "down", "fail", "failed", "failing",
			"failure", "error", "critical", "offline", "unavailable", "dead", "stopped", "red", "deleted",
		},
		stateMaintenance: {
			"maintenance", "draining", "drain", "drained", "disabled", "unknown", "pending", "starting",
			"initializing", "degraded", "warning", "paused", "standby", "yellow", "suspended",
		},
	} {
		for _, n := range names {
			m[n] = st
		}
	}
	return m
}()

// vesState maps a state word to a VES state, trying the rule's States
// first; ok is false for a word neither knows.
func vesState(rule *Rule, word string) (string, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	if st, ok := rule.States[w]; ok {
		return st, true
	}
	if st, ok := rule.States[word]; ok {
		return st, true
	}
	st, ok := stateNames[w]
	return st, ok
}

// camel turns an event type (minus a "sluice." prefix) into the CamelCase
// description of an eventName: "probe.state" -> "ProbeState". Anything
// but ASCII letters and digits separates words.
func camel(s string) string {
	s = strings.TrimPrefix(s, eventtypes.Prefix)
	var b strings.Builder
	up := true
	for _, r := range s {
		if !isAlnum(r) {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "Event"
	}
	return b.String()
}

// clearSuffixes end the types of events that clear an alarm.
var clearSuffixes = []string{".cleared", ".clear", ".resolved", ".recovered"}

// baseType strips a clear suffix, so that a raise and its clear share it.
func baseType(typ string) (string, bool) {
	for _, s := range clearSuffixes {
		if b, ok := strings.CutSuffix(typ, s); ok {
			return b, true
		}
	}
	return typ, false
}

// sanitizeCondition makes an alarmCondition short and without spaces.
func sanitizeCondition(s string) string {
	s = strings.Map(func(r rune) rune {
		if isSpace(r) || isControl(r) {
			return '_'
		}
		return r
	}, s)
	return truncate(s, 128)
}
