package journal_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// timedJournal appends batches of 10 records one second apart over several
// segments: batch b holds sequences 10b+1..10b+10 at t0+b seconds.
func timedJournal(t *testing.T, opts journal.Options, batches int) (*journal.Journal, time.Time) {
	t.Helper()
	clock := newFakeClock()
	t0 := clock.Now()
	opts.Clock = clock
	j, err := journal.Open(t.TempDir(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(ctxT(t)) })
	for range batches {
		appendN(t, j, 1, 10)
		clock.Advance(time.Second)
	}
	return j, t0
}

func TestSeqAtTime(t *testing.T) {
	t.Parallel()
	j, t0 := timedJournal(t, journal.Options{SegmentMaxBytes: 32 << 10}, 100)
	require.GreaterOrEqual(t, len(stats(t, j).Segments), 4)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tests := []struct {
		name string
		at   time.Time
		want uint64
	}{
		{"before everything", t0.Add(-time.Hour), 1},
		{"exactly the first batch", t0, 1},
		{"just after the first batch", t0.Add(time.Nanosecond), 11},
		{"between batches", sec(41.5), 421},
		{"exactly a batch", sec(42), 421},
		{"exactly the last batch", sec(99), 991},
		{"after the last batch", sec(99.5), 1001},
		{"far future", t0.Add(24 * time.Hour), 1001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := j.SeqAtTime(ctxT(t), tt.at)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			if got > 1 && got <= 1000 {
				recs, err := j.Read(ctxT(t), got-1, pipeline.ReadLimit{MaxRecords: 2})
				require.NoError(t, err)
				assert.True(t, recs[0].AppendTime.Before(tt.at), "the record before is older")
				assert.False(t, recs[1].AppendTime.Before(tt.at), "the record found is not older")
			}
		})
	}
}

func TestSeqAtTimeAfterRetention(t *testing.T) {
	t.Parallel()
	j, t0 := timedJournal(t, journal.Options{SegmentMaxBytes: 32 << 10, RetentionMaxBytes: 96 << 10}, 200)
	st := stats(t, j)
	require.Greater(t, st.First, uint64(1), "retention removed the oldest segments")
	got, err := j.SeqAtTime(ctxT(t), t0)
	require.NoError(t, err)
	assert.Equal(t, st.First, got, "a time before the retained records gives the oldest retained")
	got, err = j.SeqAtTime(ctxT(t), t0.Add(199*time.Second))
	require.NoError(t, err)
	assert.Equal(t, uint64(1991), got)
}

func TestSeqAtTimeEmpty(t *testing.T) {
	t.Parallel()
	j, t0 := timedJournal(t, journal.Options{}, 0)
	got, err := j.SeqAtTime(ctxT(t), t0)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), got)
}
