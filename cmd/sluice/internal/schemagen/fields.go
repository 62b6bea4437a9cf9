package schemagen

import (
	"reflect"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/sluice-dev/sluice/pipeline"
)

// keyField is one key of a config struct, as the loader decodes it.
type keyField struct {
	name     string
	field    reflect.StructField
	value    reflect.Value // invalid when walking a type
	required bool
}

// keyFields calls fn for each key of struct t (with its value in v, when
// v is valid), descending into inlined and embedded structs as the loader
// does: yaml tags name the keys, an untagged field's key is its lower-cased
// name, config:"required" or yaml ",required" marks required keys.
func keyFields(t reflect.Type, v reflect.Value, fn func(keyField)) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, optText, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		opts := strings.Split(optText, ",")
		if name == "-" {
			continue
		}
		var fv reflect.Value
		if v.IsValid() {
			fv = v.Field(i)
		}
		if (f.Anonymous && name == "") || slices.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft, fv = ft.Elem(), reflect.Value{}
			}
			if ft.Kind() == reflect.Struct {
				keyFields(ft, fv, fn)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fn(keyField{name: name, field: f, value: fv,
			required: f.Tag.Get("config") == "required" || slices.Contains(opts, "required")})
	}
}

// requiredKeys are t's required keys.
func requiredKeys(t reflect.Type) []string {
	var out []string
	keyFields(t, reflect.Value{}, func(k keyField) {
		if k.required {
			out = append(out, k.name)
		}
	})
	return out
}

// applyDefaults sets the default of each property of def whose field in
// v (a struct) holds a scalar or list that is not the zero value, and of
// the keys of the structs below it (the journal section's). Secrets are
// never shown.
func (g *generator) applyDefaults(def *jsonschema.Schema, v reflect.Value, defs jsonschema.Definitions) {
	keyFields(v.Type(), v, func(k keyField) {
		p, ok := def.Properties.Get(k.name)
		if !ok || k.value.IsZero() || k.field.Type == reflect.TypeFor[pipeline.Secret]() {
			return
		}
		if k.value.Kind() == reflect.Struct && p.Ref != "" {
			if sub := defs[strings.TrimPrefix(p.Ref, "#/$defs/")]; sub != nil {
				g.applyDefaults(sub, k.value, defs)
			}
			return
		}
		if d, ok := defaultValue(k.value); ok {
			p.Default = d
		}
	})
}
