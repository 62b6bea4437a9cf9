package hostpluginsink

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/glob"
	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
)

// rule is a compiled ObservationConfig.
type rule struct {
	name        string
	nameFrom    selector
	hasNameFrom bool
	types       []string
	routes      []string
	when        []condition
	healthy     selector
	equals      []string
	description selector
	value       selector
	// period and errorState override the name's defaults when set.
	period, errorState *time.Duration
	failingSince       selector
	builtin            bool
}

type condition struct {
	sel  selector
	want string
}

// mapped is an event turned into an observation, before the error state.
type mapped struct {
	obs     Observation // IsHealthy is the event's own result
	literal bool        // the name is written in the config
	// failingSince is when the source says the failures began; zero if
	// it does not say.
	failingSince time.Time
	period       time.Duration
	errorState   time.Duration
}

// mapping is the ordered list of rules of one sink.
type mapping struct {
	rules []rule
}

// compileMapping compiles the configured rules, then the built-in ones
// when enabled. The config has been validated.
func compileMapping(cfg *Config) (*mapping, error) {
	all := slices.Clone(cfg.Observations)
	nUser := len(all)
	if cfg.BuiltinObservations {
		all = append(all, builtinObservations()...)
	}
	m := &mapping{rules: make([]rule, 0, len(all))}
	for i := range all {
		r, err := compileRule(&all[i])
		if err != nil {
			return nil, fmt.Errorf("observations[%d]: %w", i, err)
		}
		r.builtin = i >= nUser
		m.rules = append(m.rules, r)
	}
	return m, nil
}

func compileRule(o *ObservationConfig) (rule, error) {
	var errs []error
	sel := func(s string) selector {
		x, err := parseSelector(s)
		errs = append(errs, err)
		return x
	}
	r := rule{
		name:         o.Name,
		types:        o.Types,
		routes:       o.Routes,
		healthy:      sel(o.Healthy.From),
		equals:       o.Healthy.Equals,
		description:  sel(o.Description),
		value:        sel(o.Value),
		period:       o.Period,
		errorState:   o.ErrorState,
		failingSince: sel(o.FailingSince),
	}
	if o.NameFrom != "" {
		r.nameFrom, r.hasNameFrom = sel(o.NameFrom), true
	}
	keys := make([]string, 0, len(o.When))
	for k := range o.When {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		r.when = append(r.when, condition{sel: sel(k), want: o.When[k]})
	}
	return r, errors.Join(errs...)
}

// selects reports whether r applies to the delivery. A built-in rule
// applies only to an event one of Sluice's own sources emitted
// (reserved.FromEngine), so that no ingest client's event can become a
// heartbeat forwarded to Azure.
func (r *rule) selects(v *eventView) (bool, error) {
	if len(r.routes) > 0 && !slices.Contains(r.routes, v.d.Route) {
		return false, nil
	}
	if r.builtin && !reserved.FromEngine(&v.d.Event) {
		return false, nil
	}
	if !glob.Any(r.types, v.d.Event.Type) {
		return false, nil
	}
	for _, c := range r.when {
		got, err := v.get(c.sel)
		if err != nil {
			return false, err
		}
		if !got.present || got.text != c.want {
			return false, nil
		}
	}
	return true, nil
}

// observe maps a delivery to an observation with the first rule that
// selects it. The error is permanent: retrying cannot change the event.
func (m *mapping) observe(d *pipeline.Delivery) (mapped, error) {
	v := eventView{d: d}
	for i := range m.rules {
		r := &m.rules[i]
		ok, err := r.selects(&v)
		if err != nil {
			return mapped{}, fmt.Errorf("%w: rule %s: %w", ErrUnmapped, r.label(i), err)
		}
		if !ok {
			continue
		}
		out, err := r.apply(&v)
		if err != nil {
			return mapped{}, fmt.Errorf("%w: rule %s: %w", ErrUnmapped, r.label(i), err)
		}
		return out, nil
	}
	return mapped{}, fmt.Errorf("%w: no rule selects type %q (route %q); select it out in the route or add an observations rule", ErrUnmapped, d.Event.Type, d.Route)
}

func (r *rule) label(i int) string {
	kind := "observations"
	if r.builtin {
		kind = "built-in"
	}
	name := r.name
	if r.hasNameFrom {
		name = "name_from"
	}
	return fmt.Sprintf("%s[%d] (%s)", kind, i, name)
}

func (r *rule) apply(v *eventView) (mapped, error) {
	var out mapped
	name := r.name
	if r.hasNameFrom {
		got, err := v.get(r.nameFrom)
		if err != nil {
			return out, fmt.Errorf("name_from: %w", err)
		}
		if got.text == "" {
			return out, errors.New("name_from selects no name")
		}
		name = cutRunes(got.text, maxNameChars)
	}
	healthy, err := r.health(v)
	if err != nil {
		return out, err
	}
	desc, err := v.get(r.description)
	if err != nil {
		return out, fmt.Errorf("description: %w", err)
	}
	val, err := v.get(r.value)
	if err != nil {
		return out, fmt.Errorf("value: %w", err)
	}
	since, err := v.get(r.failingSince)
	if err != nil {
		return out, fmt.Errorf("failing_since: %w", err)
	}
	if since.present && !healthy {
		out.failingSince, err = time.Parse(time.RFC3339Nano, since.text)
		if err != nil {
			return out, fmt.Errorf("failing_since: want an RFC 3339 time, got %q", cutRunes(since.text, 64))
		}
	}
	out.obs = Observation{Name: name, IsHealthy: healthy, Description: desc.text, Value: val.text}
	out.literal = !r.hasNameFrom
	out.period, out.errorState = defaultTiming(name)
	if r.period != nil {
		out.period = *r.period
	}
	if r.errorState != nil {
		out.errorState = *r.errorState
	}
	return out, nil
}

func (r *rule) health(v *eventView) (bool, error) {
	got, err := v.get(r.healthy)
	if err != nil {
		return false, fmt.Errorf("healthy: %w", err)
	}
	if !got.present {
		return false, errors.New("healthy: the selected value is missing (WALinuxAgent refuses an observation without health too)")
	}
	if len(r.equals) > 0 {
		return slices.Contains(r.equals, got.text), nil
	}
	if got.isBool {
		return got.boolean, nil
	}
	switch strings.ToLower(got.text) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("healthy: want a boolean (or set healthy.equals), got %q", cutRunes(got.text, 64))
}

// cutRunes returns at most n code points of s.
func cutRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
