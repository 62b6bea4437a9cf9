package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// decodeString decodes src into out (a pointer) and returns the error
// lines, without the file name.
func decodeString(t *testing.T, src string, out any) []string {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(src), &doc))
	errs := &collector{file: "t"}
	d := newDecoder(errs, newInterpolator("t", func(k string) (string, bool) {
		v, ok := map[string]string{"N": "42", "S": "s3cret"}[k]
		return v, ok
	}))
	d.decode(doc.Content[0], reflect.ValueOf(out).Elem(), "")
	if err := errs.result(); err != nil {
		return strings.Split(strings.ReplaceAll(err.Error(), "t:", ""), "\n")
	}
	return nil
}

type inner struct {
	A string `yaml:"a"`
	B int    `yaml:"b"`
}

type withDefaults struct {
	Kind string `yaml:"kind"`
	Size int    `yaml:"size"`
}

func (w *withDefaults) SetDefaults() { w.Kind = "default" }

type rawHook struct{ Tag, Value string }

func (h *rawHook) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "bad" {
		return errors.New("hook says no")
	}
	h.Tag, h.Value = n.Tag, n.Value
	return nil
}

type outer struct {
	inner
	*Embedded
	Named   string                  `yaml:"named,required"`
	Req     string                  `config:"required"`
	Plain   int                     // key "plain"
	Skip    string                  `yaml:"-"`
	List    []withDefaults          `yaml:"list"`
	Map     map[string]withDefaults `yaml:"map"`
	Ptr     *withDefaults           `yaml:"ptr"`
	Hook    rawHook                 `yaml:"hook"`
	Dur     time.Duration           `yaml:"dur"`
	I8      int8                    `yaml:"i8"`
	U       uint                    `yaml:"u"`
	F32     float32                 `yaml:"f32"`
	Any     any                     `yaml:"any"`
	private string                  //nolint:unused // must not become a key
}

type Embedded struct {
	E string `yaml:"e"`
}

func TestDecodeFeatures(t *testing.T) {
	t.Parallel()
	var o outer
	errs := decodeString(t, `
a: x
b: 2
e: emb
named: n
req: r
plain: 3
list: [{size: 1}, {kind: k}]
map: {m: {size: 2}}
ptr: {size: 3}
hook: ${S}
dur: 1m
i8: -128
u: 0b101
f32: 1.5
any: {n: "${N}", k: [1, 2.5, ~, yes]}
`, &o)
	require.Empty(t, errs)
	assert.Equal(t, inner{A: "x", B: 2}, o.inner)
	assert.Equal(t, &Embedded{E: "emb"}, o.Embedded)
	assert.Equal(t, "n", o.Named)
	assert.Equal(t, "r", o.Req)
	assert.Equal(t, 3, o.Plain)
	assert.Equal(t, []withDefaults{{Kind: "default", Size: 1}, {Kind: "k"}}, o.List)
	assert.Equal(t, map[string]withDefaults{"m": {Kind: "default", Size: 2}}, o.Map)
	assert.Equal(t, &withDefaults{Kind: "default", Size: 3}, o.Ptr)
	assert.Equal(t, rawHook{Tag: "!!str", Value: "s3cret"}, o.Hook, "hooks see interpolated values")
	assert.Equal(t, time.Minute, o.Dur)
	assert.Equal(t, int8(-128), o.I8)
	assert.Equal(t, uint(5), o.U)
	assert.InDelta(t, 1.5, o.F32, 0)
	assert.Equal(t, map[string]any{"n": "42", "k": []any{1, 2.5, nil, "yes"}}, o.Any)
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "missing required",
			src:  "a: x",
			want: []string{`1:1: missing required key "named"`, `1:1: missing required key "req"`},
		},
		{
			name: "null required",
			src:  "named:\nreq: r",
			want: []string{`1:7: required key "named" has no value`},
		},
		{
			name: "skip and private are not keys",
			src:  "named: n\nreq: r\nskip: 1\nprivate: 2",
			want: []string{`3:1: unknown key "skip"`, `4:1: unknown key "private"`},
		},
		{
			name: "ranges",
			src:  "named: n\nreq: r\ni8: 128\nu: -1\nf32: 1e100",
			want: []string{`3:5: i8: want an integer between -128 and 127, got "128"`, `4:4: u: want a non-negative integer, got "-1"`, `5:6: f32: want a finite number, got "1e100"`},
		},
		{
			name: "hook error",
			src:  "named: n\nreq: r\nhook: bad",
			want: []string{`3:7: hook: hook says no`},
		},
		{
			name: "interpolated values are not shown",
			src:  "named: n\nreq: r\ndur: ${S}\ni8: x${S}",
			want: []string{`3:6: dur: want a duration such as 15s, got the expansion of "${S}"`, `4:5: i8: want an integer, got the expansion of "x${S}"`},
		},
		{
			name: "alias bomb in any",
			src:  "named: n\nreq: r\nany: [&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]]",
			want: []string{`3:46: any[4][7][0][7][3]: aliases expand to more than 100000 values; the document is too large or contains an alias bomb`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o outer
			assert.Equal(t, tt.want, decodeString(t, tt.src, &o))
		})
	}
}

func TestDecodeMergeKeys(t *testing.T) {
	t.Parallel()
	var o struct {
		X inner `yaml:"x"`
		Y inner `yaml:"y"`
		Z any   `yaml:"z"`
	}
	errs := decodeString(t, `
x: &base {a: from-base, b: 1}
y:
  <<: [{b: 2}, *base]
  a: own
z: {<<: *base, c: 3}
`, &o)
	require.Empty(t, errs)
	assert.Equal(t, inner{A: "from-base", B: 1}, o.X)
	assert.Equal(t, inner{A: "own", B: 2}, o.Y, "own keys win, then earlier merges")
	assert.Equal(t, map[string]any{"a": "from-base", "b": 1, "c": 3}, o.Z)
}

func TestAliasPositions(t *testing.T) {
	t.Parallel()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte("x: &r {a: v}\ny: *r\n"), &doc))
	var o struct {
		X inner `yaml:"x"`
		Y inner `yaml:"y"`
	}
	errs := &collector{file: "t"}
	d := newDecoder(errs, newInterpolator("t", nil))
	d.decode(doc.Content[0], reflect.ValueOf(&o).Elem(), "")
	require.NoError(t, errs.result())
	assert.Equal(t, 2, d.values["y"].Line, "the alias is where y is written")
	assert.Equal(t, 1, d.values["y.a"].Line, "the anchor is where y.a is written")
}
