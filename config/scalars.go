package config

import (
	"encoding"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
)

var durationType = reflect.TypeFor[time.Duration]()

// typeWants describes, for messages, what a value of a well-known type
// looks like. friendly types get "want X, got Y" instead of their own
// UnmarshalText error.
var typeWants = map[reflect.Type]struct {
	want     string
	friendly bool
}{
	durationType:                         {"a duration such as 15s", true},
	reflect.TypeFor[pipeline.ByteSize](): {"a size such as 64MiB", false},
	reflect.TypeFor[pipeline.Severity](): {"a severity such as info or warning", false},
	reflect.TypeFor[slog.Level]():        {"a log level (debug, info, warn or error)", true},
	reflect.TypeFor[FullPolicy]():        {"refuse or drop_oldest", true},
	reflect.TypeFor[LogFormat]():         {"text or json", true},
	reflect.TypeFor[time.Time]():         {"a time such as 2006-01-02T15:04:05Z", true},
}

// text returns scalar n's value after interpolation, reporting
// unresolvable references once.
func (d *decoder) text(n *yaml.Node, path string) scalarText {
	if st, ok := d.scalars[n]; ok {
		return st
	}
	v, substituted, problems := d.interp.at(n).expand(n.Value)
	for _, p := range problems {
		d.errs.add(n, path, nil, "%s", p)
	}
	if substituted {
		d.errs.addSecret(v, n.Value)
	}
	st := scalarText{value: v, interpolated: substituted, ok: len(problems) == 0}
	d.scalars[n] = st
	return st
}

// got describes n for a message. An interpolated value is never shown:
// only the reference that produced it.
func (d *decoder) got(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "null"
	}
	if st, ok := d.scalars[n]; ok && st.interpolated {
		return "the expansion of " + quoteShort(n.Value)
	}
	return quoteShort(n.Value)
}

// show quotes value, decoded from the node at path, for a message; an
// interpolated value is shown as the reference that produced it.
func (d *decoder) show(path, value string) string {
	if n := resolveAlias(d.values[path]); n != nil {
		if st, ok := d.scalars[n]; ok && st.interpolated {
			return "the expansion of " + quoteShort(n.Value)
		}
	}
	return quoteShort(value)
}

func (d *decoder) typeError(n *yaml.Node, path, want string) {
	d.errs.add(n, path, nil, "want %s, got %s", want, d.got(n))
}

// wantOf describes what a value of type t looks like.
func wantOf(t reflect.Type) string {
	if w, ok := typeWants[t]; ok {
		return w.want
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	}
	return "a " + t.String()
}

// decodeScalar decodes scalar n into a string, bool, number, duration or
// encoding.TextUnmarshaler. Quoting does not matter: "8080" and 8080 both
// decode into an int, so that interpolated values decode like literal ones.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if n.Kind != yaml.ScalarNode {
		d.typeError(n, path, wantOf(t))
		return
	}
	st := d.text(n, path)
	if !st.ok {
		return
	}
	s := st.value
	if t == durationType {
		// One grammar for every duration: pipeline.ParseDuration's.
		dur, err := pipeline.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			hint := ""
			if !st.interpolated { // a hint would show the value
				hint = pipeline.DurationHint(strings.TrimSpace(s))
			}
			d.errs.add(n, path, nil, "want %s, got %s%s", wantOf(t), d.got(n), hint)
			return
		}
		v.SetInt(int64(dur))
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshalerType) {
		err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		if err == nil {
			return
		}
		if w, ok := typeWants[t]; st.interpolated || ok && w.friendly {
			// The type's own message may quote the value.
			d.typeError(n, path, wantOf(t))
			return
		}
		d.errs.add(n, path, err, "%v", err)
		return
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.typeError(n, path, wantOf(t))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := parseInt(s, t.Bits())
		if err != nil {
			d.rangeError(n, path, t, err, fmt.Sprintf("an integer between %d and %d", int64(-1)<<(t.Bits()-1), int64(1)<<(t.Bits()-1)-1))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, err := parseUint(s, t.Bits())
		if err != nil {
			d.rangeError(n, path, t, err, fmt.Sprintf("an integer between 0 and %d", uint64(math.MaxUint64)>>(64-t.Bits())))
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, ok := parseFloat(s, t.Bits())
		if !ok {
			d.typeError(n, path, "a finite number")
			return
		}
		v.SetFloat(f)
	default:
		d.errs.add(n, path, nil, "cannot decode into %s (unsupported config type)", t)
	}
}

func (d *decoder) rangeError(n *yaml.Node, path string, t reflect.Type, err error, inRange string) {
	if errors.Is(err, strconv.ErrRange) {
		d.typeError(n, path, inRange)
		return
	}
	d.typeError(n, path, wantOf(t))
}

// parseInt reads decimal, and 0x, 0o and 0b prefixed integers. A leading
// zero does not mean octal.
func parseInt(s string, bits int) (int64, error) {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 10, bits); err == nil || !hasBasePrefix(s) {
		return i, err
	}
	return strconv.ParseInt(s, 0, bits)
}

func parseUint(s string, bits int) (uint64, error) {
	s = strings.TrimSpace(s)
	if u, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, bits); err == nil || !hasBasePrefix(s) {
		return u, err
	}
	return strconv.ParseUint(s, 0, bits)
}

func hasBasePrefix(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if len(s) < 2 || s[0] != '0' {
		return false
	}
	switch s[1] {
	case 'x', 'X', 'o', 'O', 'b', 'B':
		return true
	}
	return false
}

// parseFloat accepts finite numbers only: a NaN would pass every "must be
// at least" check.
func parseFloat(s string, bits int) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), bits)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
