package config

import (
	"reflect"
	"slices"
	"strings"
	"sync"
)

// fieldInfo is one YAML key of a struct, possibly promoted from an
// embedded struct.
type fieldInfo struct {
	name     string
	index    []int
	required bool
	// ref is the kind of component ("route", "sink" or "source") the
	// field's names refer to (a `config:"route"` tag), or "".
	ref string
}

// structInfo lists the YAML keys of a struct type.
type structInfo struct {
	fields []*fieldInfo
	byName map[string]*fieldInfo
	names  []string // sorted, for suggestions
}

var structInfoCache sync.Map // reflect.Type → *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if v, ok := structInfoCache.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: map[string]*fieldInfo{}}
	depth := map[string]int{}
	collectFields(info, depth, t, nil, 0)
	for _, f := range info.fields {
		info.names = append(info.names, f.name)
	}
	slices.Sort(info.names)
	v, _ := structInfoCache.LoadOrStore(t, info)
	return v.(*structInfo)
}

// collectFields adds t's keys to info; a shallower key hides a deeper one
// of the same name, as with Go's own field promotion.
func collectFields(info *structInfo, depth map[string]int, t reflect.Type, index []int, level int) {
	if level > 16 {
		return
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := parseTag(sf)
		if tag.skip {
			continue
		}
		idx := append(slices.Clip(index), i)
		if tag.inline {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				if !sf.IsExported() {
					continue // cannot be allocated
				}
				ft = ft.Elem()
			}
			collectFields(info, depth, ft, idx, level+1)
			continue
		}
		if d, ok := depth[tag.name]; ok && d <= level {
			continue
		}
		f := &fieldInfo{name: tag.name, index: idx, required: tag.required, ref: tag.ref}
		if old, ok := info.byName[tag.name]; ok {
			info.fields = slices.DeleteFunc(info.fields, func(x *fieldInfo) bool { return x == old })
		}
		depth[tag.name] = level
		info.byName[tag.name] = f
		info.fields = append(info.fields, f)
	}
}

// fieldTag is what the `yaml` and `config` struct tags say about a field.
type fieldTag struct {
	name     string
	inline   bool
	required bool
	skip     bool
	ref      string
}

// parseTag reads `yaml:"name,flags"` and `config:"required"` (or one of
// refKinds, for a string or []string field of names). Untagged
// fields use the lower-cased field name, as yaml.v3 does; embedded structs
// without a name are inlined, as encoding/json does.
func parseTag(sf reflect.StructField) fieldTag {
	yt := sf.Tag.Get("yaml")
	if yt == "-" {
		return fieldTag{skip: true}
	}
	name, flags, _ := strings.Cut(yt, ",")
	var ft fieldTag
	for _, f := range strings.Split(flags, ",") {
		switch f {
		case "inline":
			ft.inline = true
		case "required":
			ft.required = true
		}
	}
	for _, f := range strings.Split(sf.Tag.Get("config"), ",") {
		switch {
		case f == "required":
			ft.required = true
		case slices.Contains(refKinds, f):
			ft.ref = f
		}
	}
	st := sf.Type
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if sf.Anonymous && name == "" && st.Kind() == reflect.Struct {
		ft.inline = true
	}
	if ft.inline && st.Kind() != reflect.Struct {
		ft.inline = false
	}
	if !ft.inline && !sf.IsExported() {
		return fieldTag{skip: true}
	}
	if name == "" {
		name = strings.ToLower(sf.Name)
	}
	ft.name = name
	return ft
}
