package journal_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/testenv"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestDiskFull fills a small tmpfs until ENOSPC: Append must fail with
// ErrJournalFull (reason disk full), keep what is stored, and work again
// once space is freed. It needs permission to mount tmpfs (root): as root
// a failed mount fails the test; without root it is skipped.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	t.Parallel()
	testenv.RequireRoot(t, "mounts a tmpfs")
	mnt := t.TempDir()
	if out, err := exec.CommandContext(ctxT(t), "mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs as root: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	filler := filepath.Join(mnt, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, 512<<10), 0o600))

	dir := filepath.Join(mnt, "journal")
	j, err := journal.Open(dir, journal.Options{SegmentMaxBytes: 128 << 10})
	require.NoError(t, err)
	appended := 0
	var fullErr error
	for range 1000 {
		_, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(10)})
		if err != nil {
			fullErr = err
			break
		}
		appended += 10
	}
	require.Error(t, fullErr, "the tmpfs must fill up")
	require.ErrorIs(t, fullErr, pipeline.ErrJournalFull)
	var fe *journal.FullError
	require.ErrorAs(t, fullErr, &fe)
	assert.Equal(t, journal.FullReasonDiskFull, fe.Reason)
	require.Len(t, journaltest.ReadAll(t, j, 1), appended, "nothing stored is harmed")

	require.NoError(t, os.Remove(filler))
	res, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(10)})
	require.NoError(t, err, "appends work again once space is freed")
	assert.Equal(t, uint64(appended+1), res.First)
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	require.NoError(t, j.Close(context.Background()))

	j = journaltest.MustOpenWith(t, dir, journal.Options{SegmentMaxBytes: 128 << 10, ReadOnly: true})
	assert.Equal(t, uint64(appended+10), stats(t, j).Last)
	require.NoError(t, j.Close(context.Background()))
}

// TestDiskFullReclaimsPassedSegments fills a small tmpfs with a journal
// whose only consumer keeps up: on ENOSPC the journal reclaims the
// segments the consumer has passed and the append succeeds, without any
// retention limit configured. With the consumer stuck at the start,
// nothing may be reclaimed and the append is refused as disk full. It
// needs root to mount the tmpfs, like TestDiskFull.
func TestDiskFullReclaimsPassedSegments(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	t.Parallel()
	testenv.RequireRoot(t, "mounts a tmpfs")
	mnt := t.TempDir()
	if out, err := exec.CommandContext(ctxT(t), "mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs as root: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "filler"), make([]byte, 512<<10), 0o600))

	dir := filepath.Join(mnt, "journal")
	opts := journal.Options{SegmentMaxBytes: 128 << 10}
	j, err := journal.Open(dir, opts)
	require.NoError(t, err)
	_, err = j.Cursor(ctxT(t), "sink")
	require.NoError(t, err)
	var last uint64
	for i := range 1000 { // 2.5 MB of records through 1 MB of free space
		res, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(10)})
		require.NoError(t, err, "batch %d: segments the consumer passed are reclaimed on ENOSPC", i)
		require.NoError(t, j.CommitCursor(ctxT(t), "sink", res.Last+1))
		last = res.Last
	}
	st := stats(t, j)
	assert.Equal(t, last, st.Last)
	assert.Greater(t, st.First, uint64(1), "passed segments were reclaimed")
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)

	// A second consumer that has read nothing retained: nothing is passed.
	_, err = j.Cursor(ctxT(t), "slow")
	require.NoError(t, err)
	var fullErr error
	for range 1000 {
		if _, fullErr = j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(10)}); fullErr != nil {
			break
		}
	}
	require.Error(t, fullErr, "the tmpfs must fill up")
	var fe *journal.FullError
	require.ErrorAs(t, fullErr, &fe)
	assert.Equal(t, journal.FullReasonDiskFull, fe.Reason)
	assert.Equal(t, st.First, stats(t, j).First, "nothing the slow consumer needs was reclaimed")
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	closeJ(t, j)

	j = journaltest.MustOpenWith(t, dir, journal.Options{SegmentMaxBytes: 128 << 10, ReadOnly: true})
	assert.Equal(t, st.First, stats(t, j).First)
}
