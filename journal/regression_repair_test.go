package journal_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
)

// Repair makes an older segment the newest; its floor, written when it
// was active, is stale after retention and must be replaced.
func TestRepairWritesCurrentFloorToNewNewestSegment(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	opts := journal.Options{SegmentMaxAge: 10 * time.Minute, RetentionMaxAge: time.Hour, Clock: clock}
	j, err := journal.Open(dir, opts)
	require.NoError(t, err)
	for range 6 {
		appendN(t, j, 1, 10)
		clock.Advance(20 * time.Minute)
	}
	appendN(t, j, 1, 10)
	st := stats(t, j)
	t.Logf("first=%d last=%d segs=%d", st.First, st.Last, len(st.Segments))
	require.Greater(t, st.First, uint64(1))
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	closeJ(t, j)
	// damage the newest segment's first record
	newest := st.Segments[len(st.Segments)-1]
	flipRecord(t, dir, st, newest.First)
	rep, err := journal.Repair(ctxT(t), dir, journal.RepairOptions{})
	require.NoError(t, err)
	t.Logf("repair: %+v", rep)
	j, err = journal.Open(dir, opts)
	require.NoError(t, err)
	defer closeJ(t, j)
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err, "verify after repair")
}
