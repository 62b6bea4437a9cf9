package journal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestActiveSegmentNotEvicted: reading the active segment used to put it
// in the cache of open sealed segments, so that opening more than
// MaxOpenSegments sealed ones afterwards (a replay, an export, Verify)
// could close the handle the committer writes through: the next commit
// or Close failed with "database not open".
func TestActiveSegmentNotEvicted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := journal.Options{SegmentMaxBytes: 32 << 10, MaxOpenSegments: 2}
	j, err := journal.Open(dir, opts)
	require.NoError(t, err)
	appendN(t, j, 40, 10) // a dozen segments
	closeJ(t, j)

	j, err = journal.Open(dir, opts)
	require.NoError(t, err)
	last := stats(t, j).Last
	_, err = j.Read(ctxT(t), last, pipeline.ReadLimit{}) // the active segment
	require.NoError(t, err)
	require.NoError(t, j.Scan(ctxT(t), 1, 0, func(pipeline.Record) error { return nil })) // every sealed one
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	_, err = j.Cursor(ctxT(t), "sink") // a dirty cursor: Close flushes it
	require.NoError(t, err)
	appendN(t, j, 1, 10)
	require.NoError(t, j.Close(ctxT(t)))
}
