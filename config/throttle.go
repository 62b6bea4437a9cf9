package config

import (
	"errors"
	"strings"
	"text/template"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// ThrottleConfig limits deliveries per key (on a sink, or on a route for
// each of its sinks): at most one per Period, keeping the newest state,
// and with Escalate, unhealthy states only once they have held for a
// while. See pipeline.ThrottleSpec.
type ThrottleConfig struct {
	// Key is a template over the event (as transform templates) giving
	// the throttle key. Default: the event's type and subject.
	Key string `yaml:"key"`
	// Period is the least time between two deliveries of one key.
	Period time.Duration `yaml:"period"`
	// Escalate holds back unhealthy events until the condition has held
	// for After.
	Escalate *EscalateConfig `yaml:"escalate"`
	// MaxKeys bounds the keys tracked (default 10000); past it events pass
	// unthrottled, counted in sluice_sink_throttled{outcome="overflow"}.
	MaxKeys int `yaml:"max_keys"`
}

// EscalateConfig is a throttle's error-state escalation.
type EscalateConfig struct {
	// When is a CEL expression (as match.expr) selecting unhealthy events.
	When string `yaml:"when" config:"required"`
	// After is how long the condition must hold before it is reported.
	After time.Duration `yaml:"after" config:"required"`
}

// compileThrottle compiles a throttle, reporting problems under path.
func (p *parser) compileThrottle(path string, c *ThrottleConfig) (*pipeline.ThrottleSpec, bool) {
	spec := &pipeline.ThrottleSpec{Period: c.Period, MaxKeys: c.MaxKeys}
	ok := true
	if c.Period < 0 {
		p.report(joinPath(path, "period"), errors.New("must not be negative"))
		ok = false
	}
	if c.MaxKeys < 0 {
		p.report(joinPath(path, "max_keys"), errors.New("must not be negative"))
		ok = false
	}
	if c.Period == 0 && c.Escalate == nil {
		p.report(path, errors.New("a throttle needs a period, an escalate, or both"))
		ok = false
	}
	if c.Key != "" {
		tpl, err := parseTemplate(c.Key)
		if err != nil {
			p.report(joinPath(path, "key"), err)
			ok = false
		}
		spec.Key = templateKeyer{tpl}
	}
	if e := c.Escalate; e != nil {
		ep := joinPath(path, "escalate")
		if e.After <= 0 {
			p.report(joinPath(ep, "after"), errors.New("must be positive"))
			ok = false
		}
		when, err := CompileExpression(e.When)
		if err != nil {
			p.report(joinPath(ep, "when"), err)
			ok = false
		}
		spec.Escalate = &pipeline.EscalateSpec{When: when, After: e.After}
	}
	return spec, ok
}

// templateKeyer renders a key template.
type templateKeyer struct{ tpl *template.Template }

// Key implements pipeline.EventKeyer.
func (k templateKeyer) Key(e *pipeline.Event) (string, error) {
	var b strings.Builder
	err := k.tpl.Execute(&b, newTemplateEvent(e))
	return b.String(), err
}
