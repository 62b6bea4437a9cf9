package eventtypes_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// notEventTypes are "sluice." strings of sources and sinks that are not
// event types, with the reason.
var notEventTypes = map[string]string{
	"sluice.id":         "VES additional field: the event's id",
	"sluice.source":     "VES additional field: the event's source",
	"sluice.type":       "VES additional field: the event's type",
	"sluice.object":     "VES additional field: data left out for its size",
	"sluice.truncated":  "VES additional field: members left out",
	"sluice.fleet":      "fleet mode's default NATS subject prefix",
	"sluice.dev/sluice": "k8s sink: the default reportingController, a qualified name",
}

// TestNoEventTypeLiterals fails when a source, a sink or the code they
// share spells a "sluice." string other than a metric name, a span
// attribute key or one of notEventTypes: event types come from this
// package's constants. Tests may spell them (they pin the wire values).
func TestNoEventTypeLiterals(t *testing.T) {
	t.Parallel()
	var found []string
	for _, dir := range []string{"../../sources", "../../sinks", "../../internal"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case d.IsDir() && (d.Name() == "testdata" || d.Name() == "eventtypes"):
				return filepath.SkipDir
			case d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go"):
				return nil
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, l := range eventTypeLiterals(f) {
				found = append(found, fset.Position(l.Pos()).String()+": "+l.Value)
			}
			return nil
		})
		require.NoError(t, err)
	}
	assert.Empty(t, found, "use the constants of internal/eventtypes for event types")
}

func TestEventTypeLiteralsFinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      int
	}{
		{"event type", `var e = pipeline.Event{Type: "sluice.vm.fault"}`, 1},
		{"glob", `var types = []string{"sluice.probe.*"}`, 1},
		{"prefix", `var s = strings.TrimPrefix(x, "sluice.")`, 1},
		{"const", `const typeState = "sluice.probe.state"`, 1},
		{"metric name", `const metricChecks = "sluice.source.probe.checks"`, 0},
		{"metric block", "const (\n metricA = \"sluice.sink.a\"\n metricB = \"sluice.sink.b\"\n)", 0},
		{"span attribute", `var a = attribute.String("sluice.sink", id)`, 0},
		{"attribute value", `var a = attribute.String("k", "sluice.probe.state")`, 1},
		{"ves field", `var f = field{Name: "sluice.id"}`, 0},
		{"other text", `var s = "demo.sluice.x"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := parser.ParseFile(token.NewFileSet(), "x.go", "package x\n"+tt.src, 0)
			require.NoError(t, err)
			assert.Len(t, eventTypeLiterals(f), tt.want)
		})
	}
}

// eventTypeLiterals returns the "sluice." string literals of f that are
// not in an allowed place.
func eventTypeLiterals(f *ast.File) []*ast.BasicLit {
	allowed := map[*ast.BasicLit]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec: // const metricX = "sluice.…": an instrument name
			for i, name := range n.Names {
				if i < len(n.Values) && strings.HasPrefix(name.Name, "metric") {
					if l, ok := n.Values[i].(*ast.BasicLit); ok {
						allowed[l] = true
					}
				}
			}
		case *ast.CallExpr: // attribute.String("sluice.…", v): a span attribute key
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && len(n.Args) > 0 {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "attribute" {
					if l, ok := n.Args[0].(*ast.BasicLit); ok {
						allowed[l] = true
					}
				}
			}
		}
		return true
	})
	var out []*ast.BasicLit
	ast.Inspect(f, func(n ast.Node) bool {
		l, ok := n.(*ast.BasicLit)
		if !ok || l.Kind != token.STRING || allowed[l] {
			return true
		}
		s, err := strconv.Unquote(l.Value)
		if err != nil || !strings.HasPrefix(s, "sluice.") {
			return true
		}
		if _, ok := notEventTypes[s]; !ok {
			out = append(out, l)
		}
		return true
	})
	return out
}
