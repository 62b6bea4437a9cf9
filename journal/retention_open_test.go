package journal_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
)

// TestOpenKeepsBacklogForNewConsumer: a journal filled without a size
// limit and reopened with one (the engine's default retention.max_bytes
// is 2 GiB) keeps its backlog for a consumer that registers after Open,
// as the engine's sinks do. Retention used to run as Open started the
// committer, before any consumer could register, and removed every
// segment past the limit: a new stdout sink draining a 10M-event backlog
// (5.7 GB) wrote only the newest 3.64M events. Unregistered records still
// go at the first periodic pass.
func TestOpenKeepsBacklogForNewConsumer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{SegmentMaxBytes: 32 << 10})
	require.NoError(t, err)
	appendN(t, j, 200, 10)
	full := stats(t, j)
	require.Greater(t, full.Bytes, int64(160<<10), "the backlog exceeds the limit below")
	closeJ(t, j)

	j = journaltest.MustOpenWith(t, dir, sizeOpts(journal.FullPolicyRefuse))
	time.Sleep(200 * time.Millisecond) // the engine builds and starts its sinks
	next, err := j.Cursor(ctxT(t), "new-sink")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), next, "the new consumer starts at the oldest record")
	st := stats(t, j)
	assert.Equal(t, uint64(1), st.First, "nothing removed before the consumer registered")
	assert.Equal(t, full.Last, st.Last)

	// Without a consumer, the first periodic pass applies the limit.
	dir = t.TempDir()
	k, err := journal.Open(dir, journal.Options{SegmentMaxBytes: 32 << 10})
	require.NoError(t, err)
	appendN(t, k, 200, 10)
	closeJ(t, k)
	opts := sizeOpts(journal.FullPolicyRefuse)
	opts.RetentionInterval = 50 * time.Millisecond
	k = journaltest.MustOpenWith(t, dir, opts)
	require.Eventually(t, func() bool { return stats(t, k).Bytes <= 160<<10 }, time.Minute, 10*time.Millisecond)
	st = stats(t, k)
	assert.Greater(t, st.First, uint64(1))
	assert.Zero(t, st.Dropped, "no consumer: nothing counts as dropped")
	checkContiguous(t, st)
}
