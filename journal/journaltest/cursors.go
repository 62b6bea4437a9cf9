package journaltest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// Conformance cases for cursors, source state, stats and Close.

func testStateAtomic(t *testing.T, h *harness) {
	ctx := ctxT(t)
	_, err := h.j.Append(ctx, pipeline.AppendBatch{
		Events: Events(0, 2),
		State: []pipeline.StateUpdate{
			{Source: "vmfault", Key: "vm-1", Value: []byte("raised")},
			{Source: "vmfault", Key: "vm-2", Value: []byte("raised")},
			{Source: "other", Key: "k", Value: []byte("v")},
		},
	})
	require.NoError(t, err)
	st, err := h.j.SourceState(ctx, "vmfault")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"vm-1": []byte("raised"), "vm-2": []byte("raised")}, st)

	res, err := h.j.Append(ctx, pipeline.AppendBatch{
		Events: Events(2, 1),
		State: []pipeline.StateUpdate{
			{Source: "vmfault", Key: "vm-1", Delete: true},
			{Source: "vmfault", Key: "vm-2", Value: []byte("cleared")},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, uint64(3), res.First)
	st, err = h.j.SourceState(ctx, "vmfault")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"vm-2": []byte("cleared")}, st)

	// State alone (no events) is allowed.
	_, err = h.j.Append(ctx, pipeline.AppendBatch{State: []pipeline.StateUpdate{{Source: "other", Key: "k", Delete: true}}})
	require.NoError(t, err)
	st, err = h.j.SourceState(ctx, "other")
	require.NoError(t, err)
	assert.Empty(t, st)
	st, err = h.j.SourceState(ctx, "never")
	require.NoError(t, err)
	assert.Empty(t, st)
}

func testStateReopen(t *testing.T, h *harness) {
	_, err := h.j.Append(ctxT(t), pipeline.AppendBatch{Events: Events(0, 1),
		State: []pipeline.StateUpdate{{Source: "s", Key: "k", Value: []byte("v1")}}})
	require.NoError(t, err)
	h.reopen()
	st, err := h.j.SourceState(ctxT(t), "s")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"k": []byte("v1")}, st)
}

func testCursorRegisters(t *testing.T, h *harness) {
	ctx := ctxT(t)
	next, err := h.j.Cursor(ctx, "empty")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), next, "an empty journal's first record will be 1")
	h.append(Events(0, 3)...)
	next, err = h.j.Cursor(ctx, "late")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), next, "a new consumer starts at the oldest record")
	st, err := h.j.Stats(ctx)
	require.NoError(t, err)
	assert.Contains(t, st.Cursors, "late")
	assert.Contains(t, st.Cursors, "empty")
}

func testCursorMonotonic(t *testing.T, h *harness) {
	ctx := ctxT(t)
	h.append(Events(0, 10)...)
	require.NoError(t, h.j.CommitCursor(ctx, "sink", 6))
	require.NoError(t, h.j.CommitCursor(ctx, "sink", 3))
	next, err := h.j.Cursor(ctx, "sink")
	require.NoError(t, err)
	assert.Equal(t, uint64(6), next)
	require.NoError(t, h.j.CommitCursor(ctx, "sink", 11))
	next, err = h.j.Cursor(ctx, "sink")
	require.NoError(t, err)
	assert.Equal(t, uint64(11), next)
}

func testCursorBeyondHead(t *testing.T, h *harness) {
	h.append(Events(0, 2)...)
	require.Error(t, h.j.CommitCursor(ctxT(t), "sink", 10))
	require.Error(t, h.j.CommitCursor(ctxT(t), "", 1))
}

func testCursorDurable(t *testing.T, h *harness) {
	ctx := ctxT(t)
	h.append(Events(0, 5)...)
	require.NoError(t, h.j.CommitCursor(ctx, "a", 4))
	require.NoError(t, h.j.CommitCursor(ctx, "b", 6))
	h.reopen()
	for name, want := range map[string]uint64{"a": 4, "b": 6} {
		next, err := h.j.Cursor(ctxT(t), name)
		require.NoError(t, err)
		assert.Equal(t, want, next, name)
	}
}

func testCursorBatched(t *testing.T, h *harness) {
	// Cursor commits never wait for an fsync: thousands take far less
	// than thousands of fsyncs would.
	ctx := ctxT(t)
	h.append(Events(0, 100)...)
	start := time.Now()
	for i := range 20000 {
		require.NoError(t, h.j.CommitCursor(ctx, fmt.Sprintf("sink-%d", i%4), uint64(i%100)+1))
	}
	assert.Less(t, time.Since(start), 2*time.Second)
	h.reopen()
	next, err := h.j.Cursor(ctxT(t), "sink-3")
	require.NoError(t, err)
	assert.Equal(t, uint64(100), next)
}

func testStats(t *testing.T, h *harness) {
	ctx := ctxT(t)
	st, err := h.j.Stats(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.First)
	assert.Zero(t, st.Last)
	h.append(Events(0, 4)...)
	require.NoError(t, h.j.CommitCursor(ctx, "sink", 3))
	st, err = h.j.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.First)
	assert.Equal(t, uint64(4), st.Last)
	assert.Equal(t, uint64(3), st.Cursors["sink"])
	assert.Positive(t, st.Bytes)
	require.NotEmpty(t, st.Segments)
	assert.Equal(t, uint64(4), st.Segments[len(st.Segments)-1].Last)
}

func testClosed(t *testing.T, h *harness) {
	ctx := ctxT(t)
	require.NoError(t, h.j.Close(ctx))
	require.NoError(t, h.j.Close(ctx), "Close is idempotent")
	_, err := h.j.Append(ctx, pipeline.AppendBatch{Events: Events(0, 1)})
	require.ErrorIs(t, err, pipeline.ErrJournalClosed)
	_, err = h.j.Read(ctx, 1, pipeline.ReadLimit{})
	require.ErrorIs(t, err, pipeline.ErrJournalClosed)
	require.ErrorIs(t, h.j.CommitCursor(ctx, "s", 1), pipeline.ErrJournalClosed)
	_, err = h.j.Cursor(ctx, "s")
	require.ErrorIs(t, err, pipeline.ErrJournalClosed)
	_, err = h.j.Stats(ctx)
	require.ErrorIs(t, err, pipeline.ErrJournalClosed)
	_, err = h.j.SourceState(ctx, "s")
	require.ErrorIs(t, err, pipeline.ErrJournalClosed)
}
