package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"

	"github.com/sluice-dev/sluice/internal/glob"
	"github.com/sluice-dev/sluice/pipeline"
)

// compileMatch compiles a route's match, reporting problems under path.
// It returns nil when the match selects everything.
func (p *parser) compileMatch(path string, c *MatchConfig) (pipeline.EventMatcher, bool) {
	m := &matcher{types: c.Types, subjects: c.Subjects, attributes: c.Attributes, severity: c.Severity}
	ok := true
	for i, g := range c.Types {
		if err := checkGlob(g); err != nil {
			p.report(indexPath(joinPath(path, "types"), i), err)
			ok = false
		}
	}
	for i, g := range c.Subjects {
		if err := checkGlob(g); err != nil {
			p.report(indexPath(joinPath(path, "subjects"), i), err)
			ok = false
		}
	}
	for k, g := range c.Attributes {
		if !isExtensionName(k) {
			p.report(joinPath(joinPath(path, "attributes"), k), fmt.Errorf("attribute name %q must be lower-case letters and digits (a CloudEvents extension name)", k))
			ok = false
		}
		if err := checkGlob(g); err != nil {
			p.report(joinPath(joinPath(path, "attributes"), k), err)
			ok = false
		}
	}
	if c.Expr != "" {
		expr, err := CompileExpression(c.Expr)
		if err != nil {
			p.report(joinPath(path, "expr"), err)
			ok = false
		}
		m.expr = expr
	}
	if !ok {
		return nil, false
	}
	if len(m.types) == 0 && len(m.subjects) == 0 && len(m.attributes) == 0 && m.severity == nil && m.expr == nil {
		return nil, true
	}
	return m, true
}

// matcher is a compiled route match.
type matcher struct {
	types, subjects []string
	attributes      map[string]string
	severity        *pipeline.Severity
	expr            *Expression
}

// Match implements pipeline.EventMatcher.
func (m *matcher) Match(e *pipeline.Event) (bool, error) {
	if m.severity != nil && e.Severity < *m.severity {
		return false, nil
	}
	if len(m.types) > 0 && !glob.Any(m.types, e.Type) {
		return false, nil
	}
	if len(m.subjects) > 0 && !glob.Any(m.subjects, e.Subject) {
		return false, nil
	}
	for k, g := range m.attributes {
		v, ok := e.Extensions[k]
		if !ok || !glob.Match(g, v) {
			return false, nil
		}
	}
	if m.expr != nil {
		return m.expr.Match(e)
	}
	return true, nil
}

// Expression is a compiled CEL expression over an event, as used by route
// matches (and by replay's --match). It is safe for concurrent use.
//
// The expression sees one variable, `event`, a map with: id, source, type,
// subject, origin, datacontenttype, dataschema (strings), severity (the
// level's name, "warning"), level (int: debug -1, info 0, notice 1,
// warning 2, error 3, critical 4, alert 5, emergency 6), time (timestamp),
// sequence (uint), attributes (map of extension attributes) and data (the
// payload decoded from JSON when pipeline.IsJSONContentType says its
// datacontenttype is JSON, an absent one included; null otherwise, or
// when it does not parse).
type Expression struct {
	source   string
	program  cel.Program
	needData bool
}

// ErrExpression is returned (wrapped) for an expression that does not
// compile or does not yield a boolean.
var ErrExpression = errors.New("invalid expression")

// celEnv is the CEL environment of match expressions, built at the first
// expression rather than at init: a configuration without one (most) never
// runs cel-go's environment setup, which costs startup time and memory.
var celEnv = sync.OnceValue(func() *cel.Env {
	env, err := cel.NewEnv(cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		panic(err) // a static declaration; cannot fail
	}
	return env
})

// CompileExpression compiles a CEL match expression once.
func CompileExpression(src string) (*Expression, error) {
	ast, iss := celEnv().Compile(src)
	if iss != nil && iss.Err() != nil {
		var msgs []string
		for _, e := range iss.Errors() {
			msgs = append(msgs, fmt.Sprintf("column %d: %s", e.Location.Column()+1, e.Message))
		}
		return nil, fmt.Errorf("%w: %s", ErrExpression, strings.Join(msgs, "; "))
	}
	if !ast.OutputType().IsExactType(celtypes.BoolType) && !ast.OutputType().IsExactType(celtypes.DynType) {
		return nil, fmt.Errorf("%w: must be a boolean, but yields %s", ErrExpression, ast.OutputType())
	}
	prg, err := celEnv().Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExpression, err)
	}
	return &Expression{source: src, program: prg, needData: strings.Contains(src, "data")}, nil
}

// String returns the expression's source.
func (x *Expression) String() string { return x.source }

// Match evaluates the expression on e. An evaluation error (a missing
// key, a type mismatch) is returned; a non-boolean result is an error.
func (x *Expression) Match(e *pipeline.Event) (bool, error) {
	ev := map[string]any{
		"id": e.ID, "source": e.Source, "type": e.Type, "subject": e.Subject, "origin": e.Origin,
		"datacontenttype": e.DataContentType, "dataschema": e.DataSchema,
		"severity": e.Severity.String(), "level": int64(e.Severity), "sequence": e.Sequence,
		"time": e.Time.UTC(), "attributes": attributesOf(e), "data": nil,
	}
	if e.Time.IsZero() {
		ev["time"] = time.Unix(0, 0).UTC()
	}
	if x.needData && len(e.Data) > 0 && pipeline.IsJSONContentType(e.DataContentType) {
		var data any
		if json.Unmarshal(e.Data, &data) == nil {
			ev["data"] = data
		}
	}
	out, _, err := x.program.Eval(map[string]any{"event": ev})
	if err != nil {
		return false, fmt.Errorf("match %q: %w", x.source, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("match %q: yields %T, not a boolean", x.source, out.Value())
	}
	return b, nil
}

func attributesOf(e *pipeline.Event) map[string]string {
	if e.Extensions == nil {
		return map[string]string{}
	}
	return e.Extensions
}

// checkGlob rejects what internal/glob does not accept (an empty pattern).
func checkGlob(g string) error { return glob.Validate(g) }

func isExtensionName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
