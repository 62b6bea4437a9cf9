package lazyfs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/lazyfs"
)

func mount(t *testing.T) (underlying, mnt string, l *lazyfs.FS) {
	t.Helper()
	underlying, mnt = t.TempDir(), t.TempDir()
	l, err := lazyfs.Mount(underlying, mnt)
	require.NoError(t, err, "the power-loss tests need FUSE (/dev/fuse) and root")
	t.Cleanup(func() { _ = l.Unmount() })
	return underlying, mnt, l
}

// TestCrashDropsWhatWasNotSynced: reads through the mount see every write;
// after Crash the underlying file holds exactly what was synced.
func TestCrashDropsWhatWasNotSynced(t *testing.T) {
	underlying, mnt, l := mount(t)
	f, err := os.OpenFile(filepath.Join(mnt, "a"), os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(t, err)
	_, err = f.Write([]byte("synced;"))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	_, err = f.Write([]byte("lost"))
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("L"), 0) // overwrites a synced byte, unsynced
	require.NoError(t, err)

	b, err := os.ReadFile(filepath.Join(mnt, "a"))
	require.NoError(t, err)
	require.Equal(t, "Lynced;lost", string(b), "reads through the mount see pending writes")
	st, err := f.Stat()
	require.NoError(t, err)
	require.Equal(t, int64(len("Lynced;lost")), st.Size(), "and so does the size")
	b, err = os.ReadFile(filepath.Join(underlying, "a"))
	require.NoError(t, err)
	require.Equal(t, "synced;", string(b), "the disk holds only what was synced")

	require.NoError(t, f.Close())
	require.Equal(t, 1, l.Crash())
	require.NoError(t, l.Unmount())
	b, err = os.ReadFile(filepath.Join(underlying, "a"))
	require.NoError(t, err)
	require.Equal(t, "synced;", string(b), "a power cut keeps what was synced and nothing else")
}

// TestTruncateDropsPendingBeyondSize: a truncate cuts pending writes too.
func TestTruncateDropsPendingBeyondSize(t *testing.T) {
	underlying, mnt, _ := mount(t)
	p := filepath.Join(mnt, "b")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(t, err)
	_, err = f.Write([]byte("0123456789"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(4))
	_, err = f.WriteAt([]byte("x"), 6) // a hole at 4..5
	require.NoError(t, err)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "0123\x00\x00x", string(b))
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	b, err = os.ReadFile(filepath.Join(underlying, "b"))
	require.NoError(t, err)
	require.Equal(t, "0123\x00\x00x", string(b))
}
