package eventtypes_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/internal/libra"
)

// TestLBRequestMatchesLibra keeps LBRequestData and libra.RequestEvent,
// its typed form, one shape: the same members, and a request written by
// the one reads back the same through the other.
func TestLBRequestMatchesLibra(t *testing.T) {
	t.Parallel()
	var typed libra.RequestEvent
	fill(reflect.ValueOf(&typed).Elem(), 1)
	typed.Action = "UPDATE"
	b, err := json.Marshal(typed)
	require.NoError(t, err)

	var raw eventtypes.LBRequestData
	require.NoError(t, json.Unmarshal(b, &raw))
	again, err := json.Marshal(raw)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(again))

	back, err := libra.ParseRequestEvent(again)
	require.NoError(t, err)
	assert.Equal(t, typed, back)

	var a, c map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &a))
	require.NoError(t, json.Unmarshal(again, &c))
	assert.Equal(t, slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(c)))
}
