package journal

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestSharedExtensions: consecutive events with equal encoded extensions
// share one map; any difference (a value, an added pair, none at all)
// decodes a map of its own, equal to what decoding alone gives.
func TestSharedExtensions(t *testing.T) {
	t.Parallel()
	ev := func(ext map[string]string) []byte {
		e := sampleEvent()
		e.Extensions = ext
		return MarshalEvent(nil, &e)
	}
	inputs := [][]byte{
		ev(map[string]string{"probe": "web", "region": "eu"}),
		ev(map[string]string{"probe": "web", "region": "eu"}),
		ev(map[string]string{"probe": "web", "region": "eu-west"}),
		ev(map[string]string{"probe": "web", "region": "eu-west", "zone": "b"}),
		ev(nil),
		ev(nil),
		ev(map[string]string{"probe": "web", "region": "eu-west", "zone": "b"}),
	}
	shares := []bool{false, true, false, false, false, true, false}
	var cache extCache
	var prev map[string]string
	for i, b := range inputs {
		var got, alone pipeline.Event
		require.NoError(t, decodeEventShared(b, &got, &cache), i)
		require.NoError(t, decodeEvent(b, &alone), i)
		require.Equal(t, alone, got, i)
		same := got.Extensions != nil && reflect.ValueOf(got.Extensions).UnsafePointer() == reflect.ValueOf(prev).UnsafePointer()
		require.Equal(t, shares[i] && got.Extensions != nil, same, "event %d shares the previous map", i)
		prev = got.Extensions
	}
}

// FuzzSharedExtensions: decoding a with a cache, then b with the same
// cache, gives what decoding each alone gives (or the same error).
func FuzzSharedExtensions(f *testing.F) {
	e := sampleEvent()
	one := MarshalEvent(nil, &e)
	e.Extensions["a"] = "11"
	f.Add(one, MarshalEvent(nil, &e))
	f.Add(one, one)
	f.Add(one, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var cache extCache
		var sa, sb, ea, eb pipeline.Event
		errA := decodeEventShared(a, &sa, &cache)
		errB := decodeEventShared(b, &sb, &cache)
		require.Equal(t, errA, decodeEvent(a, &ea))
		require.Equal(t, errB, decodeEvent(b, &eb))
		if errA == nil {
			require.Equal(t, ea, sa)
		}
		if errB == nil {
			require.Equal(t, eb, sb)
		}
	})
}
