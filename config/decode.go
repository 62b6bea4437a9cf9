package config

import (
	"encoding"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxAliasExpansion bounds how many nodes aliases may expand to in total,
// so that an "alias bomb" (aliases of aliases of lists) fails fast instead
// of exhausting memory. Real configs expand a few hundred nodes at most.
const maxAliasExpansion = 100_000

// NodeUnmarshaler is implemented by config types with their own YAML
// syntax. The loader passes the value's node with aliases expanded and
// ${...} references already interpolated; an error is reported at the
// node's position. yaml.v3's yaml.Unmarshaler is honoured the same way.
type NodeUnmarshaler interface {
	UnmarshalYAMLNode(node *yaml.Node) error
}

// WrittenUnmarshaler is implemented by config types that also keep their
// value as written, before interpolation, to show it without the secrets
// ${...} filled in (the probe source's exec command is its events'
// target). After the value's NodeUnmarshaler or yaml.Unmarshaler hook
// succeeded, the loader calls UnmarshalYAMLWritten with the node as
// written: aliases expanded, ${...} references left as they are.
type WrittenUnmarshaler interface {
	UnmarshalYAMLWritten(written *yaml.Node) error
}

// Defaulter is implemented by config types whose list elements, map values
// or pointer targets need defaults: the loader calls SetDefaults on every
// such value it allocates, before decoding into it. Values that exist
// already (from DefaultConfig) keep theirs.
type Defaulter interface {
	SetDefaults()
}

// keyFilter lets a struct accept keys it has no field for (the document
// ignores "x-" keys, which hold YAML anchors).
type keyFilter interface {
	ignoreKey(key string) bool
}

var (
	nodeType            = reflect.TypeFor[yaml.Node]()
	nodePtrType         = reflect.TypeFor[*yaml.Node]()
	nodeUnmarshalerType = reflect.TypeFor[NodeUnmarshaler]()
	yamlUnmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	defaulterType       = reflect.TypeFor[Defaulter]()
)

// decoder strictly decodes yaml.Nodes into Go values by reflection,
// recording every problem with its position and the node of every path
// it decodes.
type decoder struct {
	errs   *collector
	interp *interpolator
	// values maps a path to the node written for it (an alias node where
	// an alias was used); keys maps it to its mapping key.
	values map[string]*yaml.Node
	keys   map[string]*yaml.Node
	// scalars memoizes interpolation, so each scalar is expanded (and
	// reported) once however many aliases refer to it.
	scalars map[*yaml.Node]scalarText
	// expanded counts nodes reached through aliases; active holds the
	// alias targets being expanded, to catch self-reference.
	expanded    int
	aliasBombed bool
	// refs are the names decoded into fields tagged with a refKind.
	refs         []reference
	active       map[*yaml.Node]bool
	subtreeSizes map[*yaml.Node]int
}

// scalarText is a scalar's value after interpolation.
type scalarText struct {
	value        string
	interpolated bool
	ok           bool
}

func newDecoder(errs *collector, interp *interpolator) *decoder {
	if interp != nil {
		interp.seen = errs.addSecret
	}
	return &decoder{
		errs:         errs,
		interp:       interp,
		values:       map[string]*yaml.Node{},
		keys:         map[string]*yaml.Node{},
		scalars:      map[*yaml.Node]scalarText{},
		active:       map[*yaml.Node]bool{},
		subtreeSizes: map[*yaml.Node]int{},
	}
}

// decode decodes n into v (which must be settable) and records n as the
// node of path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.values[path] = n
	switch v.Type() {
	case nodePtrType:
		v.Set(reflect.ValueOf(n))
		return
	case nodeType:
		v.Set(reflect.ValueOf(n).Elem())
		return
	}
	if n.Kind == yaml.AliasNode {
		t, ok := d.enter(n, path)
		if !ok {
			return
		}
		defer d.leave(t)
		n = t
	}
	if !d.checkTag(n, path) {
		return
	}
	if isNull(n) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		// Other values keep their defaults: "key:" with nothing after it
		// is the same as leaving the key out.
		return
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(allocate(v.Type().Elem()))
		}
		d.decodeValue(n, v.Elem(), path)
		return
	}
	d.decodeValue(n, v, path)
}

// decodeValue decodes the non-alias, non-null node n into v.
func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string) {
	if v.CanAddr() {
		pt := v.Addr().Type()
		switch {
		case pt.Implements(nodeUnmarshalerType):
			if d.callHook(n, path, v.Addr().Interface().(NodeUnmarshaler).UnmarshalYAMLNode) {
				d.callWritten(n, path, v.Addr().Interface())
			}
			return
		case pt.Implements(yamlUnmarshalerType):
			if d.callHook(n, path, v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML) {
				d.callWritten(n, path, v.Addr().Interface())
			}
			return
		case v.Type() == durationType, pt.Implements(textUnmarshalerType):
			d.decodeScalar(n, v, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			d.errs.add(n, path, nil, "cannot decode into %s (a config type needs a concrete type here)", v.Type())
			return
		}
		if x, ok := d.decodeAny(n, path, 0); ok {
			if x == nil {
				v.SetZero()
			} else {
				v.Set(reflect.ValueOf(x))
			}
		}
	default:
		d.decodeScalar(n, v, path)
	}
}

func (d *decoder) callHook(n *yaml.Node, path string, hook func(*yaml.Node) error) bool {
	c, ok := d.plainCopy(n, path, 0)
	if !ok {
		return false
	}
	if err := hook(c); err != nil {
		d.errs.add(n, path, err, "%v", err)
		return false
	}
	return true
}

// callWritten gives a WrittenUnmarshaler its value as written.
func (d *decoder) callWritten(n *yaml.Node, path string, v any) {
	wu, ok := v.(WrittenUnmarshaler)
	if !ok {
		return
	}
	c, ok := d.copyNode(n, path, 0, false)
	if !ok {
		return
	}
	if err := wu.UnmarshalYAMLWritten(c); err != nil {
		d.errs.add(n, path, err, "%v", err)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.typeError(n, path, "a mapping")
		return
	}
	info := structInfoOf(v.Type())
	var filter keyFilter
	if v.CanAddr() {
		filter, _ = v.Addr().Interface().(keyFilter)
	}
	seen := map[string]bool{}
	for _, e := range d.entries(n, path) {
		name := e.key.Value
		f, ok := info.byName[name]
		if !ok {
			if filter == nil || !filter.ignoreKey(name) {
				d.unknownKey(e.key, path, name, info.names)
			}
			continue
		}
		seen[name] = true
		fp := joinPath(path, name)
		d.keys[fp] = e.key
		d.decode(e.value, fieldByIndex(v, f.index), fp)
		if f.ref != "" {
			d.collectRefs(f.ref, fieldByIndex(v, f.index), fp)
		}
		if f.required && d.isEmpty(e.value) {
			d.errs.addCovering(e.value, path, fp, nil, "required key %q has no value", name)
		}
	}
	for _, f := range info.fields {
		if f.required && !seen[f.name] {
			d.missing(path, f.name)
		}
	}
}

// checkRequired reports every required key of struct type t as missing
// at path (for a section that is absent or null).
func (d *decoder) checkRequired(t reflect.Type, path string) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for _, f := range structInfoOf(t).fields {
		if f.required {
			d.missing(path, f.name)
		}
	}
}

// missing reports a required key absent from the mapping at path, at the
// key that introduces the mapping where there is one.
func (d *decoder) missing(path, name string) {
	d.errs.addCovering(d.keyNode(path), path, joinPath(path, name), nil, "missing required key %q", name)
}

func (d *decoder) unknownKey(key *yaml.Node, path, name string, known []string) {
	hint := didYouMean(name, known)
	if hint == "" && len(known) > 0 && len(known) <= 12 {
		hint = "; valid keys: " + joinNames(known)
	}
	d.errs.addCovering(key, path, joinPath(path, name), nil, "unknown key %q%s", name, hint)
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.typeError(n, path, "a list")
		return
	}
	// A list in the file replaces the default list; it is not merged.
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		e := s.Index(i)
		setDefaults(e)
		d.decode(item, e, indexPath(path, i))
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.errs.add(n, path, nil, "cannot decode into %s (map keys must be strings)", t)
		return
	}
	if n.Kind != yaml.MappingNode {
		d.typeError(n, path, "a mapping")
		return
	}
	// Like lists, a mapping in the file replaces the default map.
	m := reflect.MakeMap(t)
	for _, e := range d.entries(n, path) {
		fp := joinPath(path, e.key.Value)
		d.keys[fp] = e.key
		ev := reflect.New(t.Elem()).Elem()
		setDefaults(ev)
		d.decode(e.value, ev, fp)
		m.SetMapIndex(reflect.ValueOf(e.key.Value).Convert(t.Key()), ev)
	}
	v.Set(m)
}

// decodeAny decodes n without a target type: mappings become
// map[string]any, lists []any and scalars bool, int, float64, string or nil
// by their YAML type (interpolated scalars are always strings).
func (d *decoder) decodeAny(n *yaml.Node, path string, depth int) (any, bool) {
	if depth > 100 {
		d.errs.add(n, path, nil, "nesting is too deep")
		return nil, false
	}
	if n.Kind == yaml.AliasNode {
		t, ok := d.enter(n, path)
		if !ok {
			return nil, false
		}
		defer d.leave(t)
		n = t
	}
	if !d.checkTag(n, path) {
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		ok := true
		for _, e := range d.entries(n, path) {
			fp := joinPath(path, e.key.Value)
			d.keys[fp], d.values[fp] = e.key, e.value
			x, xok := d.decodeAny(e.value, fp, depth+1)
			m[e.key.Value], ok = x, ok && xok
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		ok := true
		for i, item := range n.Content {
			ip := indexPath(path, i)
			d.values[ip] = item
			x, xok := d.decodeAny(item, ip, depth+1)
			s[i], ok = x, ok && xok
		}
		return s, ok
	}
	st := d.text(n, path)
	if !st.ok {
		return nil, false
	}
	if st.interpolated {
		return st.value, true
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool", "!!int", "!!float":
		var x any
		if err := n.Decode(&x); err == nil {
			return x, true
		}
	}
	return st.value, true
}

// fieldByIndex returns the field at index, allocating embedded pointers.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(allocate(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// allocate returns a pointer to a new value of t with its defaults set.
func allocate(t reflect.Type) reflect.Value {
	p := reflect.New(t)
	setDefaults(p.Elem())
	return p
}

func setDefaults(v reflect.Value) {
	if v.CanAddr() && v.Addr().Type().Implements(defaulterType) {
		v.Addr().Interface().(Defaulter).SetDefaults()
	}
}

// checkTag rejects application-specific tags such as !env: only YAML's
// own (!!str, !!int, ...) are meaningful here.
func (d *decoder) checkTag(n *yaml.Node, path string) bool {
	if n.Style&yaml.TaggedStyle == 0 || len(n.Tag) >= 2 && n.Tag[:2] == "!!" {
		return true
	}
	d.errs.add(n, path, nil, "unsupported tag %s", n.Tag)
	return false
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isEmpty reports whether n is null or a scalar that interpolates to "".
func (d *decoder) isEmpty(n *yaml.Node) bool {
	n = resolveAlias(n)
	if n == nil || isNull(n) {
		return true
	}
	if n.Kind != yaml.ScalarNode {
		return false
	}
	st, done := d.scalars[n]
	return done && st.ok && st.value == ""
}

// resolveAlias follows an alias without charging the expansion budget, for
// looking at a node that was already decoded.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for range 8 {
		if n == nil || n.Kind != yaml.AliasNode {
			return n
		}
		n = n.Alias
	}
	return nil
}

// keyNode returns the node to report a problem with the mapping at path:
// its key if it has one, else the value, else the nearest ancestor's.
func (d *decoder) keyNode(path string) *yaml.Node {
	for {
		if k, ok := d.keys[path]; ok {
			return k
		}
		if v, ok := d.values[path]; ok {
			return v
		}
		if path == "" {
			return nil
		}
		path = parentPath(path)
	}
}

// valueNode returns the node written for path, else the nearest
// ancestor's.
func (d *decoder) valueNode(path string) *yaml.Node {
	for {
		if v, ok := d.values[path]; ok {
			return v
		}
		if path == "" {
			return nil
		}
		path = parentPath(path)
	}
}

func joinNames(names []string) string { return strings.Join(names, ", ") }

// quoteShort quotes s for a message, eliding the middle of long values.
func quoteShort(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:40]) + "…" + string(r[len(r)-10:])
	}
	return strconv.Quote(s)
}
