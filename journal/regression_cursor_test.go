package journal_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/testenv"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// A cursor deleted before a rotation that fails (disk full) stays deleted.
func TestDeletedCursorSurvivesFailedRotation(t *testing.T) {
	testenv.RequireRoot(t, "mounts a tmpfs")
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1024k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	clock := newFakeClock()
	dir := filepath.Join(mnt, "j")
	opts := journal.Options{SegmentMaxBytes: 128 << 10, SegmentMaxAge: 10 * time.Minute, Clock: clock}
	j, err := journal.Open(dir, opts)
	require.NoError(t, err)
	appendN(t, j, 1, 10)
	ctx := context.Background()
	_, _ = j.Cursor(ctx, "a")
	_, _ = j.Cursor(ctx, "b")
	appendN(t, j, 1, 10) // cursors durable
	require.NoError(t, j.DeleteCursor(ctx, "b"))

	// fill the disk, then leave ~32 KiB
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	require.NoError(t, err)
	buf := make([]byte, 4096)
	n := int64(0)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
		n += 4096
	}
	require.NoError(t, f.Truncate(n-32<<10))
	require.NoError(t, f.Close())

	clock.Advance(20 * time.Minute)
	_, err = j.Append(ctx, pipeline.AppendBatch{Events: payload256(400)})
	t.Logf("rotating append: %v", err)
	require.Error(t, err)
	require.NoError(t, os.Remove(filler))
	require.NoError(t, j.Close(ctx))

	j, err = journal.Open(dir, opts)
	require.NoError(t, err)
	defer closeJ(t, j)
	st := stats(t, j)
	t.Logf("cursors after reopen: %v", st.Cursors)
	_, resurrected := st.Cursors["b"]
	require.False(t, resurrected, "deleted cursor b came back")
}
