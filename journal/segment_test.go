package journal_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

func checkContiguous(t *testing.T, st pipeline.JournalStats) {
	t.Helper()
	for i := 1; i < len(st.Segments); i++ {
		require.Equal(t, st.Segments[i-1].Last+1, st.Segments[i].First, "segments are contiguous")
	}
	require.Equal(t, st.First, st.Segments[0].First)
	require.Equal(t, st.Last, st.Segments[len(st.Segments)-1].Last)
}

func TestRotationBySize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := journaltest.MustOpenWith(t, dir, journal.Options{SegmentMaxBytes: 64 << 10})
	appendN(t, j, 60, 10)
	st := stats(t, j)
	require.Greater(t, len(st.Segments), 3)
	checkContiguous(t, st)
	assert.Equal(t, uint64(600), st.Last)
	for _, s := range st.Segments[:len(st.Segments)-1] {
		assert.Less(t, s.Bytes, int64(4*64<<10), "sealed segments stay near the size limit")
	}
	recs := journaltest.ReadAll(t, j, 1)
	require.Len(t, recs, 600)
	rep, err := j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(600), rep.Records)
	assert.Equal(t, st.HeadHash, rep.HeadHash)
	assert.Equal(t, len(st.Segments), rep.Segments)

	// Reading across a boundary in one call.
	b := st.Segments[1].First
	got, err := j.Read(ctxT(t), b-2, pipeline.ReadLimit{MaxRecords: 5})
	require.NoError(t, err)
	require.Len(t, got, 5)
	assert.Equal(t, b-2, got[0].Seq)
	assert.Equal(t, b+2, got[4].Seq)
}

func TestRotationByAge(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	j := journaltest.MustOpenWith(t, t.TempDir(), journal.Options{SegmentMaxAge: time.Hour, Clock: clock})
	appendN(t, j, 1, 5)
	clock.Advance(30 * time.Minute)
	appendN(t, j, 1, 5)
	require.Len(t, stats(t, j).Segments, 1)
	clock.Advance(31 * time.Minute)
	appendN(t, j, 1, 5)
	st := stats(t, j)
	require.Len(t, st.Segments, 2)
	assert.Equal(t, uint64(11), st.Segments[1].First)
	assert.Equal(t, clock.Now(), st.Segments[1].Created)
	checkContiguous(t, st)
}

func TestRotationCarriesCursorsAndState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{SegmentMaxBytes: 32 << 10})
	require.NoError(t, err)
	_, err = j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(1),
		State: []pipeline.StateUpdate{{Source: "src", Key: "k", Value: []byte("v")}}})
	require.NoError(t, err)
	require.NoError(t, j.CommitCursor(ctxT(t), "sink", 2))
	appendN(t, j, 40, 10)
	require.Greater(t, len(stats(t, j).Segments), 2)
	closeJ(t, j)

	j = journaltest.MustOpenWith(t, dir, journal.Options{SegmentMaxBytes: 32 << 10})
	next, err := j.Cursor(ctxT(t), "sink")
	require.NoError(t, err)
	assert.Equal(t, uint64(2), next)
	state, err := j.SourceState(ctxT(t), "src")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"k": []byte("v")}, state)
}

func TestScan(t *testing.T) {
	t.Parallel()
	j := journaltest.MustOpenWith(t, t.TempDir(), journal.Options{SegmentMaxBytes: 32 << 10})
	appendN(t, j, 100, 10)
	var seqs []uint64
	require.NoError(t, j.Scan(ctxT(t), 95, 905, func(r pipeline.Record) error {
		seqs = append(seqs, r.Seq)
		return nil
	}))
	require.Len(t, seqs, 811)
	assert.Equal(t, uint64(95), seqs[0])
	assert.Equal(t, uint64(905), seqs[len(seqs)-1])
	n := 0
	require.NoError(t, j.Scan(ctxT(t), 0, 0, func(pipeline.Record) error { n++; return nil }))
	assert.Equal(t, 1000, n)
	stop := assert.AnError
	err := j.Scan(ctxT(t), 1, 0, func(pipeline.Record) error { return stop })
	require.ErrorIs(t, err, stop)
}

func TestDeleteCursor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	appendN(t, j, 1, 3)
	require.NoError(t, j.CommitCursor(ctxT(t), "gone", 2))
	require.NoError(t, j.CommitCursor(ctxT(t), "kept", 3))
	require.NoError(t, j.DeleteCursor(ctxT(t), "gone"))
	closeJ(t, j)
	j = journaltest.MustOpenWith(t, dir, journal.Options{})
	st := stats(t, j)
	assert.Equal(t, map[string]uint64{"kept": 3}, st.Cursors)
}
