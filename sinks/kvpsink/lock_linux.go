//go:build linux

package kvpsink

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// tryFlock tries to take an exclusive BSD flock, the lock cloud-init and
// azure-init take. It reports false when another open file holds it.
func tryFlock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		}
		return false, fmt.Errorf("flock: %w", err)
	}
}

// tryRecordLock tries to take an exclusive fcntl write lock on the whole
// file, the lock hv_kvp_daemon takes (F_SETLKW, F_WRLCK, 0, 0). It uses an
// open file description lock, which conflicts with the daemon's classic
// POSIX lock but, unlike one, is not dropped when another descriptor of
// this process on the same file is closed; where the kernel lacks them
// (before 3.15) it falls back to a classic lock.
func tryRecordLock(f *os.File) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	cmd := unix.F_OFD_SETLK
	for {
		err := unix.FcntlFlock(f.Fd(), cmd, &lk)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
			return false, nil
		case errors.Is(err, unix.EINVAL) && cmd == unix.F_OFD_SETLK:
			cmd = unix.F_SETLK
			continue
		}
		return false, fmt.Errorf("fcntl lock: %w", err)
	}
}

// unlock releases both locks (closing the file would too).
func unlock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: 0, Start: 0, Len: 0}
	err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
	if errors.Is(err, unix.EINVAL) {
		err = unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
	}
	return errors.Join(err, unix.Flock(int(f.Fd()), unix.LOCK_UN))
}
