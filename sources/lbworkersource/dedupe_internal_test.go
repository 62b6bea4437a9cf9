package lbworkersource

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deletes lists the keys p's state updates delete.
func deletes(p pending) []string {
	var keys []string
	for _, u := range p.updates {
		if u.Delete {
			keys = append(keys, u.Key)
		}
	}
	return keys
}

// remembering returns a dedupe with window 2 that remembers a and b.
func remembering(t *testing.T) *dedupe {
	t.Helper()
	d := newDedupe(2)
	for _, k := range []string{"a", "b"} {
		p := d.prepare("lb", k, []byte(k))
		require.Empty(t, deletes(p))
		d.commit(p)
	}
	return d
}

// TestDedupeWindowWithRequestsInFlight: requests prepared concurrently
// (their appends share a commit) each forget a different old key, so the
// window holds however many are in flight, whatever order they commit in.
func TestDedupeWindowWithRequestsInFlight(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"in order", "reversed"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			d := remembering(t)
			c := d.prepare("lb", "c", []byte("c"))
			e := d.prepare("lb", "e", []byte("e"))
			assert.Equal(t, []string{"reply/a"}, deletes(c))
			assert.Equal(t, []string{"reply/b"}, deletes(e))
			if order == "in order" {
				d.commit(c)
				d.commit(e)
			} else {
				d.commit(e)
				d.commit(c)
			}
			assert.ElementsMatch(t, []string{"c", "e"}, d.queue)
			assert.Len(t, d.replies, 2)
			assert.Contains(t, d.replies, "c")
			assert.Contains(t, d.replies, "e")
			assert.Empty(t, d.claimed)
			f := d.prepare("lb", "f", []byte("f"))
			assert.Len(t, deletes(f), 1, "one old key per new one once the window is full")
		})
	}
}

// TestDedupeAbortReleasesClaims: a failed append forgets nothing, and the
// next request claims the key it had.inflight.
func TestDedupeAbortReleasesClaims(t *testing.T) {
	t.Parallel()
	d := remembering(t)
	c := d.prepare("lb", "c", []byte("c"))
	require.Equal(t, []string{"reply/a"}, deletes(c))
	d.abort(c)
	assert.Equal(t, []string{"a", "b"}, d.queue)
	assert.Empty(t, d.claimed)
	e := d.prepare("lb", "e", []byte("e"))
	assert.Equal(t, []string{"reply/a"}, deletes(e))
	d.commit(e)
	assert.Equal(t, []string{"b", "e"}, d.queue)
}

func TestDropOldest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		queue, gone []string
		want        []string
	}{
		{"front", []string{"a", "b", "c"}, []string{"a"}, []string{"b", "c"}},
		{"second", []string{"a", "b", "c"}, []string{"b"}, []string{"a", "c"}},
		{"two apart", []string{"a", "b", "c", "d"}, []string{"a", "c"}, []string{"b", "d"}},
		{"all", []string{"a", "b"}, []string{"b", "a"}, []string{}},
		{"missing", []string{"a", "b"}, []string{"x"}, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gone := map[string]struct{}{}
			for _, k := range tc.gone {
				gone[k] = struct{}{}
			}
			assert.Equal(t, tc.want, dropOldest(append([]string(nil), tc.queue...), gone))
		})
	}
}

// TestRememberedMarshal: the hand-written encoding is encoding/json's,
// which load reads back.
func TestRememberedMarshal(t *testing.T) {
	t.Parallel()
	for _, r := range []remembered{
		{Order: 0, Reply: []byte(`{"hpcs_response":"PASS"}`)},
		{Order: 18446744073709551615, Reply: []byte{0, 0xff, '"', '\n'}},
		{Order: 7, Reply: []byte{}},
		{Order: 7},
	} {
		want, err := json.Marshal(r)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(r.marshal()))
		var back remembered
		require.NoError(t, json.Unmarshal(r.marshal(), &back))
		assert.Equal(t, r.Order, back.Order)
		assert.Equal(t, string(r.Reply), string(back.Reply))
	}
}
