package eventtypes_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/eventtypes"
)

// TestRoundTrip encodes every data shape with every member set, decodes
// it, and expects the same value back and every member in snake_case.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, info := range eventtypes.All() {
		t.Run(info.Type, func(t *testing.T) {
			t.Parallel()
			require.True(t, strings.HasPrefix(info.Type, eventtypes.Prefix))
			require.NotEmpty(t, info.Doc)
			if info.Data == nil {
				return // reserved
			}
			v := info.Data()
			fill(reflect.ValueOf(v).Elem(), 1)
			b, err := json.Marshal(v)
			require.NoError(t, err)
			back := info.Data()
			require.NoError(t, json.Unmarshal(b, back))
			assert.Equal(t, v, back)

			var members map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(b, &members))
			assert.Len(t, members, reflect.TypeOf(v).Elem().NumField(), "every field is a member of its own")
			for k := range members {
				assert.Regexp(t, `^[a-z][a-z0-9_]*$`, k)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, info := range eventtypes.All() {
		assert.False(t, seen[info.Type], "listed twice: %s", info.Type)
		seen[info.Type] = true
		got, ok := eventtypes.Lookup(info.Type)
		assert.True(t, ok)
		assert.Equal(t, info.Type, got.Type)
	}
	_, ok := eventtypes.Lookup("sluice.nope")
	assert.False(t, ok)
	assert.True(t, eventtypes.IsSluice(eventtypes.VMFault))
	assert.False(t, eventtypes.IsSluice("demo.hello"))
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// fill sets every field of v to a non-zero value derived from n.
func fill(v reflect.Value, n int) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, n, time.UTC)))
		return
	case v.Type() == rawType:
		v.Set(reflect.ValueOf(json.RawMessage(`{"n":` + strings.Repeat("1", n%5+1) + `}`)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), n+i+1)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n+1)
	case reflect.String:
		v.SetString("s" + strings.Repeat("x", n%7))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Uint64:
		v.SetUint(uint64(n))
	case reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}
