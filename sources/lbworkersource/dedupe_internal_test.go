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
			assert.Equal(t, []string{seqKey(0, "a")}, deletes(c))
			assert.Equal(t, []string{seqKey(1, "b")}, deletes(e))
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
	require.Equal(t, []string{seqKey(0, "a")}, deletes(c))
	d.abort(c)
	assert.Equal(t, []string{"a", "b"}, d.queue)
	assert.Empty(t, d.claimed)
	e := d.prepare("lb", "e", []byte("e"))
	assert.Equal(t, []string{seqKey(0, "a")}, deletes(e))
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

// TestDedupeStateKeys: replies are stored under keys in arrival order
// (the journal's bucket grows at one end and shrinks at the other) with
// the reply as the value; the legacy form (legacyPrefix and remembered's
// JSON, as earlier versions wrote) is loaded, answered, forgotten and
// revised by its own key.
func TestDedupeStateKeys(t *testing.T) {
	t.Parallel()
	assert.Less(t, seqKey(9, "zzz"), seqKey(10, "a"), "sorted by order, not by key")
	assert.Less(t, seqKey(0xff, "a"), seqKey(0x100, "a"))
	for _, o := range []uint64{0, 7, 1 << 40, 18446744073709551615} {
		order, key, ok := parseSeqKey(seqKey(o, "gearman/x/y"))
		require.True(t, ok)
		assert.Equal(t, o, order)
		assert.Equal(t, "gearman/x/y", key)
	}
	for _, bad := range []string{"r/", "r/0000000000000007", "r/000000000000000g/k", "reply/k", "r/00000000000000007k"} {
		_, _, ok := parseSeqKey(bad)
		assert.False(t, ok, bad)
	}

	legacy, err := json.Marshal(remembered{Order: 4, Reply: []byte(`{"hpcs_response":"PASS","id":"old"}`)})
	require.NoError(t, err)
	d := newDedupe(2)
	d.load(map[string][]byte{
		legacyPrefix + "old": legacy,
		seqKey(5, "new"):     []byte(`{"id":"new"}`),
		"lbstate/elsewhere":  []byte("x"),
		legacyPrefix + "bad": []byte("not json"),
	})
	assert.Equal(t, []string{"old", "new"}, d.queue)
	prev, release, err := d.acquire(t.Context(), "old")
	require.NoError(t, err)
	release()
	assert.JSONEq(t, `{"hpcs_response":"PASS","id":"old"}`, string(prev))

	p := d.prepare("lb", "third", []byte("3"))
	require.Equal(t, seqKey(6, "third"), p.updates[0].Key, "after the highest order loaded")
	assert.Equal(t, "3", string(p.updates[0].Value), "the reply itself")
	assert.Equal(t, []string{legacyPrefix + "old"}, deletes(p), "a legacy entry is forgotten by its own key")
	d.commit(p)

	upd := d.revise("lb", "new", []byte("revised"))
	require.Len(t, upd, 1)
	assert.Equal(t, seqKey(5, "new"), upd[0].Key)
	d2 := newDedupe(2)
	d2.load(map[string][]byte{legacyPrefix + "old": legacy})
	upd = d2.revise("lb", "old", []byte("revised"))
	require.Len(t, upd, 2, "a legacy entry moves to its seqKey")
	assert.Equal(t, legacyPrefix+"old", upd[0].Key)
	assert.True(t, upd[0].Delete)
	assert.Equal(t, seqKey(4, "old"), upd[1].Key)
	assert.Empty(t, d.revise("lb", "gone", nil))
}
