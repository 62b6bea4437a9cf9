package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sluice-dev/sluice/internal/safefile"
)

// lockFileName is the lock file inside a journal directory.
const lockFileName = "LOCK"

// dirLock is an flock(2) on dir/LOCK. A writer holds it exclusively and
// records its PID in the file; read-only opens hold it shared. flock locks
// belong to the open file description, so a second Open in the same process
// conflicts just like another process does, and the kernel releases the
// lock when the process dies.
type dirLock struct {
	f      *os.File
	shared bool
}

// lockDir locks dir. An exclusive lock (a writer) first refuses, with
// safefile.ErrUnsafe, a directory another user could write into, and opens
// LOCK with safefile.OpenFile; a shared lock writes nothing and only
// refuses to follow a symbolic link.
func lockDir(dir string, shared bool) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	how := unix.LOCK_EX
	var f *os.File
	var err error
	if shared {
		how = unix.LOCK_SH
		f, err = os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	} else if err = safefile.CheckDir("journal directory", dir); err == nil {
		f, err = safefile.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	}
	if err != nil {
		if shared && errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lock %s: %w", path, ErrNotFound)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		defer func() { _ = f.Close() }()
		if errors.Is(err, unix.EWOULDBLOCK) {
			if pid := readPID(f); pid > 0 {
				return nil, fmt.Errorf("lock %s: %w by pid %d", path, ErrInUse, pid)
			}
			return nil, fmt.Errorf("lock %s: %w", path, ErrInUse)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l := &dirLock{f: f, shared: shared}
	if !shared {
		pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
		// The PID is only a hint for the error message; failing to write
		// it does not affect the lock.
		if f.Truncate(0) == nil {
			_, _ = f.WriteAt(pid, 0)
		}
	}
	return l, nil
}

// readPID returns the PID recorded in the lock file, or 0.
func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	if err != nil {
		return 0
	}
	return pid
}

// release clears the PID (so a stale one is never reported) and unlocks.
func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	if !l.shared {
		_ = l.f.Truncate(0)
	}
	err := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
