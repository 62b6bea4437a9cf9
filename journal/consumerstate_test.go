package journal_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// copyDir copies the journal's files as a crash would leave them: what is
// not on disk yet is not in the copy.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	ents, err := os.ReadDir(from)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, e.Name()), b, 0o600))
	}
	return to
}

// SetCursor and DeleteCursor are durable before they return, with the
// pending state commits before them; a plain CommitCursor is not.
func TestCursorChangesDurableBeforeReturn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{CursorFlushInterval: time.Hour})
	require.NoError(t, err)
	defer closeJ(t, j)
	ctx := ctxT(t)
	appendN(t, j, 1, 10)
	require.NoError(t, j.CommitCursor(ctx, "a", 8, pipeline.StateUpdate{Key: "k", Value: []byte("v")}))
	require.NoError(t, j.CommitCursor(ctx, "gone", 5, pipeline.StateUpdate{Key: "k", Value: []byte("v")}))

	crashed := copyDir(t, dir)
	c, err := journal.Open(crashed, journal.Options{ReadOnly: true})
	require.NoError(t, err)
	assert.Empty(t, stats(t, c).Cursors, "CommitCursor alone waits for the next transaction")
	closeJ(t, c)

	require.NoError(t, j.SetCursor(ctx, "a", 2))
	require.NoError(t, j.DeleteCursor(ctx, "gone"))
	crashed = copyDir(t, dir)
	c, err = journal.Open(crashed, journal.Options{ReadOnly: true})
	require.NoError(t, err)
	defer closeJ(t, c)
	assert.Equal(t, map[string]uint64{"a": 2}, stats(t, c).Cursors)
	st, err := c.ConsumerState(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"k": []byte("v")}, st, "a read-only journal reads the stored state")
	st, err = c.ConsumerState(ctx, "gone")
	require.NoError(t, err)
	assert.Empty(t, st)
}

func TestConsumerStateReadOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	appendN(t, j, 1, 5)
	require.NoError(t, j.CommitCursor(ctxT(t), "sink", 3, pipeline.StateUpdate{Key: "k", Value: []byte("v")}))
	closeJ(t, j)

	ro, err := journal.Open(dir, journal.Options{ReadOnly: true})
	require.NoError(t, err)
	defer closeJ(t, ro)
	ctx := ctxT(t)
	require.ErrorIs(t, ro.CommitCursor(ctx, "sink", 4, pipeline.StateUpdate{Key: "k", Value: []byte("w")}), journal.ErrReadOnly)
	require.ErrorIs(t, ro.SetCursor(ctx, "sink", 1), journal.ErrReadOnly)
	require.ErrorIs(t, ro.DeleteCursor(ctx, "sink"), journal.ErrReadOnly)
	st, err := ro.ConsumerState(ctx, "sink")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"k": []byte("v")}, st)
}

func TestConsumerStateInvalid(t *testing.T) {
	t.Parallel()
	j, err := journal.Open(t.TempDir(), journal.Options{})
	require.NoError(t, err)
	defer closeJ(t, j)
	appendN(t, j, 1, 2)
	err = j.CommitCursor(ctxT(t), "sink", 2, pipeline.StateUpdate{Key: ""})
	require.ErrorIs(t, err, journal.ErrInvalidCursor)
	_, err = j.ConsumerState(ctxT(t), "")
	require.ErrorIs(t, err, journal.ErrInvalidCursor)
}

// State changed while a rotation carries it is neither lost nor
// resurrected: deleting and re-adding keys across many rotations.
func TestConsumerStateChurnAcrossRotations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := journal.Options{SegmentMaxBytes: 32 << 10}
	j, err := journal.Open(dir, opts)
	require.NoError(t, err)
	ctx := ctxT(t)
	want := map[string][]byte{}
	for i := range 300 {
		_, err := j.Append(ctx, pipeline.AppendBatch{Events: payload256(2)})
		require.NoError(t, err)
		k := string(rune('a' + i%7))
		u := pipeline.StateUpdate{Key: k, Value: []byte{byte(i)}}
		if i%3 == 0 {
			u = pipeline.StateUpdate{Key: k, Delete: true}
			delete(want, k)
		} else {
			want[k] = []byte{byte(i)}
		}
		require.NoError(t, j.CommitCursor(ctx, "sink", uint64(2*i+1), u))
	}
	require.Greater(t, len(stats(t, j).Segments), 3, "the test must rotate")
	closeJ(t, j)
	j, err = journal.Open(dir, opts)
	require.NoError(t, err)
	defer closeJ(t, j)
	st, err := j.ConsumerState(ctx, "sink")
	require.NoError(t, err)
	assert.Equal(t, want, st)
}
