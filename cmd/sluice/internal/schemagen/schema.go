package schemagen

import (
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	orderedmap "github.com/pb33f/ordered-map/v2"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

// SchemaID is the $id of the generated schema.
const SchemaID = "https://sluice.dev/schema/config.json"

// Component is one registered source or sink type and the name of its
// config's definition in the schema.
type Component struct {
	Kind, Type string
	// Def is the key of the config type in $defs.
	Def string
	// Package is the import path of the config type.
	Package string
}

// Schema is the generated JSON Schema with the components it covers.
type Schema struct {
	Root       *jsonschema.Schema
	Components []Component
}

// generator reflects Go types into one set of definitions.
type generator struct {
	comments *Comments
	r        *jsonschema.Reflector
	// structs maps definition names to the struct types reflected.
	structs map[string]reflect.Type
}

// Generate builds the JSON Schema of the whole config file: the document
// (config.Document) with, for each source and sink `type` registered in
// regs, its factory's config type under `with`. Descriptions come from
// comments; required keys from config:"required" (or yaml ",required")
// tags; defaults from config.Document and each factory's DefaultConfig.
// Values that are not strings also accept strings, as the loader does
// ("8080" fills an int, and every value may be a ${VAR}).
func Generate(regs pipeline.Registries, comments *Comments) (*Schema, error) {
	g := &generator{comments: comments, structs: map[string]reflect.Type{}}
	g.r = &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		ExpandedStruct:             true,
		RequiredFromJSONSchemaTags: true,
		KeyNamer:                   strings.ToLower,
		Namer:                      defName,
		Mapper:                     g.mapType,
		LookupComment:              comments.lookup,
	}
	doc := config.Document()
	root := g.r.Reflect(doc)
	root.ID = SchemaID
	root.Title = "Sluice configuration"
	root.Description = "A Sluice config file (sluice run -c FILE). Generated from the Go types by `sluice schema`; see docs/config.md."
	defs := root.Definitions
	root.PatternProperties = map[string]*jsonschema.Schema{"^x-": jsonschema.TrueSchema}
	g.applyDefaults(root, reflect.ValueOf(doc).Elem(), defs)

	s := &Schema{Root: root}
	for _, kind := range []string{"source", "sink"} {
		var types []string
		var cfgs []pipeline.Config
		if kind == "source" {
			for _, t := range regs.Sources.Types() {
				f, _ := regs.Sources.Lookup(t)
				types, cfgs = append(types, t), append(cfgs, f.DefaultConfig())
			}
		} else {
			for _, t := range regs.Sinks.Types() {
				f, _ := regs.Sinks.Lookup(t)
				types, cfgs = append(types, t), append(cfgs, f.DefaultConfig())
			}
		}
		entryDef, err := g.entryDef(root, kind)
		if err != nil {
			return nil, err
		}
		for i, typ := range types {
			ct := reflect.TypeOf(cfgs[i])
			if ct.Kind() == reflect.Pointer {
				ct = ct.Elem()
			}
			sub := g.r.ReflectFromType(ct) // expanded: sub is the config's own schema
			name := defName(ct)
			for k, v := range sub.Definitions {
				defs[k] = v
			}
			sub.Definitions, sub.Version, sub.ID = nil, "", ""
			g.structs[name] = ct
			g.applyDefaults(sub, reflect.ValueOf(cfgs[i]).Elem(), defs)
			defs[name] = sub
			s.Components = append(s.Components, Component{Kind: kind, Type: typ, Def: name, Package: ct.PkgPath()})
			entryDef.AllOf = append(entryDef.AllOf, &jsonschema.Schema{
				If:   &jsonschema.Schema{Properties: props("type", &jsonschema.Schema{Const: typ}), Required: []string{"type"}},
				Then: &jsonschema.Schema{Properties: props("with", &jsonschema.Schema{Ref: "#/$defs/" + name})},
			})
		}
		typeProp, _ := entryDef.Properties.Get("type")
		enum := make([]any, len(types))
		for i, t := range types {
			enum[i] = t
		}
		typeProp.Enum = enum
		typeProp.Type = "string"
		typeProp.AnyOf = nil
	}
	for name, t := range g.structs {
		if def, ok := defs[name]; ok {
			def.Required = requiredKeys(t)
		}
	}
	walk(root, allowStrings)
	return s, nil
}

// lookup is the description of t's field (or of t when field is ""),
// with a leading Go field name replaced by the key users write.
func (c *Comments) lookup(t reflect.Type, field string) string {
	key := t.PkgPath() + "." + t.Name()
	if field == "" {
		return c.Text[key]
	}
	txt := c.Text[key+"."+field]
	f, ok := t.FieldByName(field)
	if !ok || !strings.HasPrefix(txt, field) {
		return txt
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		name = strings.ToLower(field)
	}
	if rest := txt[len(field):]; rest == "" || rest[0] == ' ' || rest[0] == ',' {
		return "`" + name + "`" + rest
	}
	return txt
}

// entryDef finds the definition of the source or sink envelope (the
// element type of the document's sources or sinks).
func (g *generator) entryDef(root *jsonschema.Schema, kind string) (*jsonschema.Schema, error) {
	p, ok := root.Properties.Get(kind + "s")
	if !ok || p.Items == nil || !strings.HasPrefix(p.Items.Ref, "#/$defs/") {
		return nil, fmt.Errorf("schema: the document has no list of %ss", kind)
	}
	def := root.Definitions[strings.TrimPrefix(p.Items.Ref, "#/$defs/")]
	if def == nil {
		return nil, fmt.Errorf("schema: no definition for %s", p.Items.Ref)
	}
	if _, ok := def.Properties.Get("type"); !ok {
		return nil, fmt.Errorf("schema: the %s envelope has no type", kind)
	}
	return def, nil
}

func props(k string, v *jsonschema.Schema) *orderedmap.OrderedMap[string, *jsonschema.Schema] {
	m := jsonschema.NewProperties()
	m.Set(k, v)
	return m
}

// defName names a definition by package and type: "httpsink.Config".
func defName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	if pkg == "" {
		return t.Name()
	}
	return pkg + "." + t.Name()
}

var (
	durationType  = reflect.TypeFor[time.Duration]()
	severityType  = reflect.TypeFor[pipeline.Severity]()
	levelType     = reflect.TypeFor[slog.Level]()
	byteSizeType  = reflect.TypeFor[pipeline.ByteSize]()
	nodeType      = reflect.TypeFor[yaml.Node]()
	textType      = reflect.TypeFor[encoding.TextUnmarshaler]()
	yamlUnmarshal = reflect.TypeFor[yaml.Unmarshaler]()
	nodeUnmarshal = reflect.TypeFor[config.NodeUnmarshaler]()
)

// mapType gives the scalars with their own syntax their schema, and
// records the struct types reflected.
func (g *generator) mapType(t reflect.Type) *jsonschema.Schema {
	switch t {
	case durationType:
		return durationSchema()
	case severityType:
		var names []any
		for s := pipeline.SeverityDebug; s <= pipeline.SeverityEmergency; s++ {
			names = append(names, s.String())
		}
		return &jsonschema.Schema{Type: "string", Enum: names, Description: "An event severity, least to most severe."}
	case levelType:
		return &jsonschema.Schema{Type: "string", Enum: []any{"debug", "info", "warn", "error"}}
	case byteSizeType:
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
			{Type: "integer", Minimum: "0"},
			{Type: "string", Pattern: `^\s*[0-9]+(\.[0-9]+)?\s*([kKMGT]i?B|[kMGT]B|B)?\s*$|\$\{`},
		}, Description: "A size in bytes: a number with an optional unit, binary (KiB, MiB, GiB, TiB) or decimal (kB, MB, GB, TB), such as 64MiB."}
	case nodeType:
		return &jsonschema.Schema{}
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(yamlUnmarshal) || pt.Implements(nodeUnmarshal) {
		return &jsonschema.Schema{Description: g.comments.Text[t.PkgPath()+"."+t.Name()]}
	}
	if pt.Implements(textType) {
		s := &jsonschema.Schema{Type: "string", Description: g.comments.Text[t.PkgPath()+"."+t.Name()]}
		if t.Kind() == reflect.String {
			for _, v := range g.comments.Enums[t.PkgPath()+"."+t.Name()] {
				s.Enum = append(s.Enum, v)
			}
		} else if t.Kind() == reflect.Struct && strings.Contains(strings.ToLower(t.Name()), "interval") {
			return durationSchema()
		}
		return s
	}
	if t.Kind() == reflect.Struct && t.Name() != "" {
		g.structs[defName(t)] = t
	}
	return nil
}

func durationSchema() *jsonschema.Schema {
	return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Type: "string", Pattern: `^\s*(-?([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+\s*$|^\s*[0-9]+\s*$|^0$|\$\{`},
		{Type: "integer", Minimum: "0"},
	}, Description: "A duration: a Go duration (500ms, 15s, 1h30m) or a whole number of seconds."}
}

// defaultValue renders a default as the config file would write it.
func defaultValue(v reflect.Value) (any, bool) {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String(), true
	}
	if v.CanInterface() {
		if s, ok := v.Interface().(fmt.Stringer); ok && (v.Kind() == reflect.Int8 || v.Kind() == reflect.Int64 || v.Kind() == reflect.Int) && v.Type() != reflect.TypeFor[int]() {
			return s.String(), true
		}
		if m, ok := v.Interface().(encoding.TextMarshaler); ok {
			b, err := m.MarshalText()
			return string(b), err == nil
		}
	}
	switch v.Kind() {
	case reflect.Struct, reflect.Pointer, reflect.Interface, reflect.Map:
		return nil, false
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, false
	}
	var out any
	return out, json.Unmarshal(b, &out) == nil
}

// allowStrings lets every integer, number and boolean also be written as
// a string: a quoted value or a ${VAR} reference. A schema that already
// offers a string (durations, sizes) is left as it is.
func allowStrings(s *jsonschema.Schema) bool {
	for _, c := range s.AnyOf {
		if c.Type == "string" {
			return false
		}
	}
	var pattern string
	switch s.Type {
	case "integer":
		pattern = `^\s*[-+]?(0[xXoObB])?[0-9a-fA-F_]+\s*$|\$\{`
	case "number":
		pattern = `^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$|\$\{`
	case "boolean":
		pattern = `^(true|false)$|\$\{`
	default:
		return true
	}
	orig := *s
	orig.Description, orig.Default = "", nil
	*s = jsonschema.Schema{
		Description: s.Description, Default: s.Default,
		AnyOf: []*jsonschema.Schema{&orig, {Type: "string", Pattern: pattern}},
	}
	return false
}

// walk calls fn on s, then, if fn says so, on every schema below it.
func walk(s *jsonschema.Schema, fn func(*jsonschema.Schema) bool) {
	if s == nil || !fn(s) {
		return
	}
	for _, k := range sortedKeys(s.Definitions) {
		walk(s.Definitions[k], fn)
	}
	if s.Properties != nil {
		for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
			walk(pair.Value, fn)
		}
	}
	for _, l := range [][]*jsonschema.Schema{s.AllOf, s.AnyOf, s.OneOf} {
		for _, c := range l {
			walk(c, fn)
		}
	}
	walk(s.Items, fn)
	walk(s.AdditionalProperties, fn)
	walk(s.If, fn)
	walk(s.Then, fn)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
