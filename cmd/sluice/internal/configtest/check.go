package configtest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

// checkSink compares what one sink got with the test's expectations and
// returns a failure report per problem. An expectation that cannot be
// evaluated (a CEL expression that does not compile) is an error.
func (r *runner) checkSink(t *Test, sim pipeline.SinkSimulation) ([]string, error) {
	var failures []string
	if exps, ok := t.Expect[sim.Sink]; ok {
		got := make([]pipeline.SimulatedDelivery, len(sim.Deliveries))
		copy(got, sim.Deliveries)
		fs, err := r.checkList(sim.Sink, "delivery", exps, got, nil)
		if err != nil {
			return nil, err
		}
		failures = append(failures, fs...)
	}
	if exps, ok := t.DeadLetters[sim.Sink]; ok {
		got := make([]pipeline.SimulatedDelivery, len(sim.Rejected))
		for i, rej := range sim.Rejected {
			got[i] = pipeline.SimulatedDelivery{Delivery: rej.Delivery}
		}
		fs, err := r.checkList(sim.Sink, "dead letter", exps, got, sim.Rejected)
		if err != nil {
			return nil, err
		}
		failures = append(failures, fs...)
	}
	return failures, nil
}

// checkList checks got against exps, one for one, in order. rejected,
// when set, holds the dead letters got was made of (for their reasons).
func (r *runner) checkList(sink, what string, exps []Expectation, got []pipeline.SimulatedDelivery, rejected []pipeline.SimulatedRejection) ([]string, error) {
	var failures []string
	for i, e := range exps {
		if i >= len(got) {
			failures = append(failures, fmt.Sprintf("sink %s: want %s, got %d: %s %d is missing\n", sink, plural(len(exps), what, many(what)), len(got), what, i+1))
			break
		}
		reason := ""
		if rejected != nil {
			reason = rejected[i].Reason
		}
		msg, err := r.check(e, got[i], reason)
		if err != nil {
			return nil, fmt.Errorf("sink %s: %s %d: %w", sink, what, i+1, err)
		}
		if msg != "" {
			failures = append(failures, fmt.Sprintf("sink %s: %s %d of %d (%s): %s\n%s", sink, what, i+1, len(got),
				r.describe(got[i]), msg, indent(r.show(sink, got[i], rejected, i), "    ")))
		}
	}
	for i := len(exps); i < len(got); i++ {
		failures = append(failures, fmt.Sprintf("sink %s: want %s, got %d: %s %d (%s) is not expected\n%s", sink, plural(len(exps), what, many(what)), len(got),
			what, i+1, r.describe(got[i]), indent(r.show(sink, got[i], rejected, i), "    ")))
	}
	return failures, nil
}

// check returns what of e does not hold for d, or "".
func (r *runner) check(e Expectation, d pipeline.SimulatedDelivery, reason string) (string, error) {
	var problems []string
	if e.Route != "" && d.Route != e.Route {
		problems = append(problems, fmt.Sprintf("route: want %s, got %s", e.Route, d.Route))
	}
	if e.At != nil && !d.At.IsZero() && d.At.Sub(r.file.Start) != *e.At {
		problems = append(problems, fmt.Sprintf("at: want %s, got %s", *e.At, d.At.Sub(r.file.Start)))
	}
	if e.Reason != "" && e.Reason != reason {
		problems = append(problems, fmt.Sprintf("reason: want %q, got %q", e.Reason, reason))
	}
	if e.Event != nil || e.Contains != nil {
		got, err := eventValue(&d.Event)
		if err != nil {
			return "", err
		}
		for _, c := range []struct {
			want   map[string]any
			subset bool
		}{{e.Event, false}, {e.Contains, true}} {
			if c.want == nil {
				continue
			}
			want, err := normalize(c.want)
			if err != nil {
				return "", fmt.Errorf("expected event: %w", err)
			}
			if msg := diff("", want, got, c.subset); msg != "" {
				problems = append(problems, msg)
			}
		}
	}
	if e.Expr != "" {
		x, err := config.CompileExpression(e.Expr)
		if err != nil {
			return "", fmt.Errorf("expr: %w", err)
		}
		ok, err := x.Match(&d.Event)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("expr %s: %v", e.Expr, err))
		case !ok:
			problems = append(problems, fmt.Sprintf("expr %s: false", e.Expr))
		}
	}
	return strings.Join(problems, "; "), nil
}

// eventValue is the event's CloudEvents JSON form as a JSON value.
func eventValue(e *pipeline.Event) (any, error) {
	b, err := pipeline.MarshalCloudEventJSON(e)
	if err != nil {
		return nil, err
	}
	var v any
	return v, json.Unmarshal(b, &v)
}

// describe names a delivery's route, arrival and sequence.
func (r *runner) describe(d pipeline.SimulatedDelivery) string {
	s := fmt.Sprintf("route %s, sequence %d", d.Route, d.Event.Sequence)
	if !d.At.IsZero() {
		s += ", at " + d.At.Sub(r.file.Start).String()
	}
	return s
}

// many is the plural of a delivery or dead letter.
func many(what string) string {
	if what == "delivery" {
		return "deliveries"
	}
	return what + "s"
}
