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

func TestRetentionByAgeHonorsCursors(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	dir := t.TempDir()
	opts := journal.Options{SegmentMaxAge: 10 * time.Minute, RetentionMaxAge: time.Hour, Clock: clock}
	j, err := journal.Open(dir, opts)
	require.NoError(t, err)
	_, err = j.Cursor(ctxT(t), "slow")
	require.NoError(t, err)
	for range 5 { // five segments, 20 minutes apart
		appendN(t, j, 1, 10)
		clock.Advance(20 * time.Minute)
	}
	appendN(t, j, 1, 10)
	st := stats(t, j)
	require.Len(t, st.Segments, 6, "the slow cursor keeps every segment")
	assert.Equal(t, uint64(1), st.First)

	require.NoError(t, j.CommitCursor(ctxT(t), "slow", 21)) // consumed segments 1 and 2
	clock.Advance(20 * time.Minute)
	appendN(t, j, 1, 10) // rotation runs retention
	st = stats(t, j)
	assert.Equal(t, uint64(21), st.First, "only consumed segments past the age are removed")
	checkContiguous(t, st)
	assert.Zero(t, st.Dropped)

	require.NoError(t, j.DeleteCursor(ctxT(t), "slow"))
	clock.Advance(20 * time.Minute)
	appendN(t, j, 1, 10)
	st = stats(t, j)
	for _, s := range st.Segments[:len(st.Segments)-1] {
		assert.Less(t, clock.Now().Sub(s.Created), 2*time.Hour, "segment %s should have gone", s.Name)
	}
	recs, err := j.Read(ctxT(t), 1, pipeline.ReadLimit{MaxRecords: 1})
	require.NoError(t, err)
	assert.Equal(t, st.First, recs[0].Seq, "reads older than retained start at the oldest")
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	closeJ(t, j)

	// Reopen: retention's floor is durable and Verify still passes.
	j = journaltest.MustOpenWith(t, dir, opts)
	assert.Equal(t, st.First, stats(t, j).First)
}

// sizeOpts gives segments of 32 KiB and a 96 KiB limit.
func sizeOpts(policy journal.FullPolicy) journal.Options {
	return journal.Options{SegmentMaxBytes: 32 << 10, RetentionMaxBytes: 160 << 10, FullPolicy: policy}
}

func TestRetentionByBytesWithoutCursors(t *testing.T) {
	t.Parallel()
	j := journaltest.MustOpenWith(t, t.TempDir(), sizeOpts(journal.FullPolicyRefuse))
	appendN(t, j, 200, 10)
	st := stats(t, j)
	assert.LessOrEqual(t, st.Bytes, int64(160<<10))
	assert.Greater(t, st.First, uint64(1))
	assert.Equal(t, uint64(2000), st.Last)
	assert.Zero(t, st.Dropped)
	checkContiguous(t, st)
}

func TestFullRefuseThenRecover(t *testing.T) {
	t.Parallel()
	j := journaltest.MustOpenWith(t, t.TempDir(), sizeOpts(journal.FullPolicyRefuse))
	_, err := j.Cursor(ctxT(t), "sink")
	require.NoError(t, err)
	var fullErr error
	appended := 0
	for range 500 {
		_, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(10)})
		if err != nil {
			fullErr = err
			break
		}
		appended += 10
	}
	require.Error(t, fullErr, "the size limit must be reached")
	require.ErrorIs(t, fullErr, pipeline.ErrJournalFull)
	var fe *journal.FullError
	require.ErrorAs(t, fullErr, &fe)
	assert.Equal(t, journal.FullReasonSizeLimit, fe.Reason)
	assert.Equal(t, int64(160<<10), fe.Limit)

	// Nothing already written is harmed, and refusals repeat.
	_, err = j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(1)})
	require.ErrorIs(t, err, pipeline.ErrJournalFull)
	st := stats(t, j)
	assert.Equal(t, uint64(1), st.First)
	assert.Equal(t, uint64(appended), st.Last)
	require.Len(t, journaltest.ReadAll(t, j, 1), appended)
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)

	// The consumer catches up: retention frees space and appends work again.
	require.NoError(t, j.CommitCursor(ctxT(t), "sink", st.Last+1))
	res, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(10)})
	require.NoError(t, err)
	assert.Equal(t, uint64(appended+1), res.First)
	assert.Greater(t, stats(t, j).First, uint64(1))
	assert.Zero(t, stats(t, j).Dropped)
}

func TestDropOldest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Open(dir, sizeOpts(journal.FullPolicyDropOldest))
	require.NoError(t, err)
	_, err = j.Cursor(ctxT(t), "stuck")
	require.NoError(t, err)
	require.NoError(t, j.CommitCursor(ctxT(t), "stuck", 1))
	for range 200 {
		_, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(10)})
		require.NoError(t, err, "drop_oldest never refuses")
	}
	st := stats(t, j)
	assert.Greater(t, st.First, uint64(1))
	assert.Equal(t, st.First-1, st.Dropped, "every removed record was unread by the stuck cursor")
	assert.LessOrEqual(t, st.Bytes, int64(160<<10))
	assert.Equal(t, st.First, st.Cursors["stuck"], "a cursor behind the oldest reports the oldest")
	recs, err := j.Read(ctxT(t), 1, pipeline.ReadLimit{MaxRecords: 1})
	require.NoError(t, err)
	assert.Equal(t, st.First, recs[0].Seq)
	closeJ(t, j)

	j = journaltest.MustOpenWith(t, dir, sizeOpts(journal.FullPolicyDropOldest))
	assert.Equal(t, st.Dropped, stats(t, j).Dropped, "the dropped count is durable")
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts journal.Options
		ok   bool
	}{
		{"zero is defaults", journal.Options{}, true},
		{"defaults", journal.DefaultOptions(), true},
		{"tiny segment", journal.Options{SegmentMaxBytes: 1024}, false},
		{"negative age", journal.Options{RetentionMaxAge: -1}, false},
		{"limit below two segments", journal.Options{SegmentMaxBytes: 1 << 20, RetentionMaxBytes: 1 << 20}, false},
		{"unknown policy", journal.Options{FullPolicy: "panic"}, false},
		{"drop oldest", journal.Options{FullPolicy: journal.FullPolicyDropOldest}, true},
		{"negative batch", journal.Options{MaxBatchBytes: -1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.opts.Validate()
			if c.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, pipeline.ErrInvalidConfig)
			_, err = journal.Open(t.TempDir(), c.opts)
			require.Error(t, err)
		})
	}
	d := journal.DefaultOptions()
	assert.Equal(t, int64(64<<20), d.SegmentMaxBytes)
	assert.Equal(t, 24*time.Hour, d.SegmentMaxAge)
	assert.Equal(t, journal.FullPolicyRefuse, d.FullPolicy)
	assert.Equal(t, time.Second, d.CursorFlushInterval)
	assert.ErrorIs(t, &journal.FullError{}, pipeline.ErrJournalFull)
}
