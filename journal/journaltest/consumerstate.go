package journaltest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// Conformance cases for consumer state (CommitCursor's state), SetCursor
// and DeleteCursor.

func set(key, value string) pipeline.StateUpdate {
	return pipeline.StateUpdate{Key: key, Value: []byte(value)}
}

func del(key string) pipeline.StateUpdate { return pipeline.StateUpdate{Key: key, Delete: true} }

func (h *harness) consumerState(consumer string) map[string][]byte {
	h.t.Helper()
	st, err := h.j.ConsumerState(ctxT(h.t), consumer)
	require.NoError(h.t, err)
	return st
}

func (h *harness) cursor(consumer string) uint64 {
	h.t.Helper()
	next, err := h.j.Cursor(ctxT(h.t), consumer)
	require.NoError(h.t, err)
	return next
}

func testConsumerStateWithCursor(t *testing.T, h *harness) {
	ctx := ctxT(t)
	h.append(Events(0, 5)...)
	assert.Empty(t, h.consumerState("sink"), "an unknown consumer has no state")
	require.NoError(t, h.j.CommitCursor(ctx, "sink", 3, set("alarm/1", "raised"), set("alarm/2", "raised")))
	require.NoError(t, h.j.CommitCursor(ctx, "other", 2, set("alarm/1", "mine")))
	assert.Equal(t, map[string][]byte{"alarm/1": []byte("raised"), "alarm/2": []byte("raised")}, h.consumerState("sink"),
		"state is visible at once, before it is durable")

	// A commit behind the cursor does not move it but applies its state.
	require.NoError(t, h.j.CommitCursor(ctx, "sink", 2, del("alarm/1"), set("alarm/2", "cleared"), set("empty", "")))
	assert.Equal(t, uint64(3), h.cursor("sink"))
	want := map[string][]byte{"alarm/2": []byte("cleared"), "empty": {}}
	assert.Equal(t, want, h.consumerState("sink"))

	// The returned map is a copy.
	h.consumerState("sink")["alarm/2"][0] = 'X'
	assert.Equal(t, want, h.consumerState("sink"))

	h.reopen()
	assert.Equal(t, uint64(3), h.cursor("sink"))
	assert.Equal(t, want, h.consumerState("sink"), "state is committed with the cursor")
	assert.Equal(t, map[string][]byte{"alarm/1": []byte("mine")}, h.consumerState("other"), "state is per consumer")
}

func testConsumerStateAcrossSegments(t *testing.T, h *harness) {
	// Many appends between commits: with small segments the state must be
	// carried to every new segment.
	ctx := ctxT(t)
	for i := range 40 {
		res := h.append(Events(i*20, 20)...)
		require.NoError(t, h.j.CommitCursor(ctx, "sink", res.Last+1, set("last", string(rune('a'+i%26)))))
		if i == 3 {
			require.NoError(t, h.j.CommitCursor(ctx, "sink", res.Last+1, set("early", "kept")))
		}
	}
	h.reopen()
	assert.Equal(t, map[string][]byte{"last": []byte("n"), "early": []byte("kept")}, h.consumerState("sink"))
	assert.Equal(t, uint64(801), h.cursor("sink"))
}

func testConsumerStateDeleted(t *testing.T, h *harness) {
	ctx := ctxT(t)
	h.append(Events(0, 3)...)
	require.NoError(t, h.j.CommitCursor(ctx, "gone", 2, set("k", "v")))
	require.NoError(t, h.j.CommitCursor(ctx, "stays", 2, set("k", "v")))
	h.append(Events(3, 1)...) // durable
	require.NoError(t, h.j.DeleteCursor(ctx, "gone"))
	require.NoError(t, h.j.DeleteCursor(ctx, "never-registered"), "deleting an unknown consumer is not an error")
	assert.Empty(t, h.consumerState("gone"))
	st, err := h.j.Stats(ctx)
	require.NoError(t, err)
	assert.NotContains(t, st.Cursors, "gone")

	h.reopen()
	st, err = h.j.Stats(ctxT(t))
	require.NoError(t, err)
	assert.NotContains(t, st.Cursors, "gone")
	assert.Contains(t, st.Cursors, "stays")
	assert.Empty(t, h.consumerState("gone"), "deleting a cursor deletes its state")
	assert.Equal(t, map[string][]byte{"k": []byte("v")}, h.consumerState("stays"))

	// A consumer registered again under the same name starts empty.
	require.NoError(t, h.j.CommitCursor(ctxT(t), "gone", 1, set("new", "1")))
	h.reopen()
	assert.Equal(t, map[string][]byte{"new": []byte("1")}, h.consumerState("gone"))
}

func testSetCursor(t *testing.T, h *harness) {
	ctx := ctxT(t)
	h.append(Events(0, 10)...)
	require.NoError(t, h.j.CommitCursor(ctx, "sink", 9, set("k", "v")))
	require.NoError(t, h.j.SetCursor(ctx, "sink", 4), "a cursor may be set backwards")
	assert.Equal(t, uint64(4), h.cursor("sink"))
	require.NoError(t, h.j.SetCursor(ctx, "new", 11), "setting registers a consumer")
	require.Error(t, h.j.SetCursor(ctx, "sink", 12), "beyond the next sequence")
	require.Error(t, h.j.SetCursor(ctx, "", 1))
	h.reopen()
	assert.Equal(t, uint64(4), h.cursor("sink"))
	assert.Equal(t, uint64(11), h.cursor("new"))
	assert.Equal(t, map[string][]byte{"k": []byte("v")}, h.consumerState("sink"), "SetCursor keeps the state")

	// After a backwards set, commits move forward from there again.
	require.NoError(t, h.j.CommitCursor(ctxT(t), "sink", 6))
	assert.Equal(t, uint64(6), h.cursor("sink"))
}

func testConsumerStateClosed(t *testing.T, h *harness) {
	ctx := ctxT(t)
	require.NoError(t, h.j.Close(ctx))
	require.ErrorIs(t, h.j.CommitCursor(ctx, "s", 1, set("k", "v")), pipeline.ErrJournalClosed)
	require.ErrorIs(t, h.j.SetCursor(ctx, "s", 1), pipeline.ErrJournalClosed)
	require.ErrorIs(t, h.j.DeleteCursor(ctx, "s"), pipeline.ErrJournalClosed)
	_, err := h.j.ConsumerState(ctx, "s")
	require.ErrorIs(t, err, pipeline.ErrJournalClosed)
}
