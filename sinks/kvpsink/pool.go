package kvpsink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/pipeline"
)

// Lock wait polling: the locks are tried without blocking, so that a
// cancelled context or the lock timeout ends the wait.
const (
	lockPollFirst   = time.Millisecond
	lockPollLongest = 50 * time.Millisecond
	// startLockWait bounds the wait at start: a busy file is checked at
	// the first delivery instead, so that start is not held up.
	startLockWait = time.Second
)

// pool appends records to one pool file. It opens the file for every
// append, as cloud-init does, so that a file removed or replaced between
// batches is picked up. Not safe for concurrent use.
type pool struct {
	path        string
	perm        os.FileMode
	maxBytes    int64
	fsync       bool
	lockTimeout time.Duration
	// startWait bounds the lock wait of the check at start.
	startWait time.Duration
	clock     pipeline.Clock
	// boot is this boot's start; bootKnown is false when the uptime could
	// not be read, and then nothing is truncated.
	boot      bootClock
	bootKnown bool
	// checkBoot is set while the once-per-process check for a file left
	// from an earlier boot is still to be done.
	checkBoot bool
}

// appendResult describes one append.
type appendResult struct {
	// events is how many events (of ends) were written.
	events int
	// bytes is how many bytes were written.
	bytes int64
	// sizeBefore and sizeAfter are the file's size around the write.
	sizeBefore, sizeAfter int64
	lockWait              time.Duration
	prep                  prepared
}

// prepared reports what was done to the file before writing.
type prepared struct {
	// truncatedBytes is the size of a file from an earlier boot that was
	// emptied.
	truncatedBytes int64
	truncated      bool
	// repairedBytes is the partial record cut from the end.
	repairedBytes int64
}

var (
	// ErrPoolFull is the cause of deliveries that would grow the pool file
	// beyond max_file_bytes. They fail permanently.
	ErrPoolFull = errors.New("kvp pool file full")
	// ErrLockTimeout is returned (wrapped) when the pool file's locks are
	// not free within lock_timeout. The delivery is retried.
	ErrLockTimeout = errors.New("kvp pool file locked")
	// ErrNotStarted is returned by Deliver before Start or after Close.
	ErrNotStarted = errors.New("kvp sink not started")
)

// open opens the pool file for appending, creating it (mode perm) when
// create is set. The directory must pass safefile.CheckDir and the file is
// opened with safefile.OpenFile, so a symbolic link, a hard-linked file or
// another user's file is refused untouched (safefile.ErrUnsafe). Errors
// name the cause an operator can fix.
func (p *pool) open(create bool) (*os.File, error) {
	flags := os.O_WRONLY | os.O_APPEND
	if create {
		flags |= os.O_CREATE
	}
	dir := filepath.Dir(p.path)
	err := safefile.CheckDir("kvp pool directory", dir)
	if err == nil {
		var f *os.File
		if f, err = safefile.OpenFile(p.path, flags, p.perm); err == nil {
			return f, nil
		}
	}
	switch {
	case errors.Is(err, safefile.ErrUnsafe):
		return nil, fmt.Errorf("open pool file: %w", err)
	case errors.Is(err, fs.ErrNotExist):
		if _, derr := os.Stat(dir); errors.Is(derr, fs.ErrNotExist) {
			return nil, fmt.Errorf("open pool file: directory %s does not exist (hv_kvp_daemon creates it; is hyperv-daemons installed?): %w", dir, err)
		}
		return nil, fmt.Errorf("open pool file: %w", err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return nil, fmt.Errorf("open pool file: %s is not writable by this process: %w", p.path, err)
	}
	return nil, fmt.Errorf("open pool file: %w", err)
}

// lock takes the flock and the fcntl lock, polling until both are held,
// ctx ends or timeout passes.
func (p *pool) lock(ctx context.Context, f *os.File, timeout time.Duration) (time.Duration, error) {
	start := p.clock.Now()
	wait := lockPollFirst
	haveFlock := false
	for {
		if !haveFlock {
			ok, err := tryFlock(f)
			if err != nil {
				return p.clock.Now().Sub(start), err
			}
			haveFlock = ok
		}
		if haveFlock {
			ok, err := tryRecordLock(f)
			if err != nil {
				return p.clock.Now().Sub(start), err
			}
			if ok {
				return p.clock.Now().Sub(start), nil
			}
		}
		waited := p.clock.Now().Sub(start)
		if waited >= timeout {
			held := "flock"
			if haveFlock {
				held = "fcntl lock"
			}
			return waited, fmt.Errorf("%w: another process held its %s for %s", ErrLockTimeout, held, timeout)
		}
		t := p.clock.NewTimer(min(wait, timeout-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return p.clock.Now().Sub(start), fmt.Errorf("wait for pool file locks: %w", ctx.Err())
		case <-t.C():
		}
		wait = min(2*wait, lockPollLongest)
	}
}

// prepare runs under the locks before anything is written: it empties a
// file left from an earlier boot (once per process, when enabled) and cuts
// a partial record from the end, which would shift every later record.
// It returns the file's size.
func (p *pool) prepare(f *os.File) (int64, prepared, error) {
	var prep prepared
	fi, err := f.Stat()
	if err != nil {
		return 0, prep, fmt.Errorf("stat pool file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, prep, fmt.Errorf("pool file %s is not a regular file (%s)", p.path, fi.Mode().Type())
	}
	size := fi.Size()
	if p.checkBoot {
		if p.bootKnown && size > 0 && p.boot.isAfter(fi.ModTime()) {
			if err := f.Truncate(0); err != nil {
				return size, prep, fmt.Errorf("truncate pool file from an earlier boot: %w", err)
			}
			prep.truncated, prep.truncatedBytes = true, size
			size = 0
		}
		p.checkBoot = false
	}
	if rest := size % RecordSize; rest != 0 {
		if err := f.Truncate(size - rest); err != nil {
			return size, prep, fmt.Errorf("cut partial record from pool file: %w", err)
		}
		prep.repairedBytes = rest
		size -= rest
	}
	return size, prep, nil
}

// checkAtStart does the boot check on an existing file, so that a stale
// file does not wait for the first delivery. A missing file or directory
// leaves nothing to truncate.
func (p *pool) checkAtStart(ctx context.Context) (prep prepared, err error) {
	f, err := p.open(false)
	if errors.Is(err, fs.ErrNotExist) {
		p.checkBoot = false
		return prep, err
	}
	if err != nil {
		return prep, err
	}
	defer closeFile(f, &err)
	if _, err := p.lock(ctx, f, min(p.lockTimeout, p.startWait)); err != nil {
		return prep, err
	}
	_, prep, err = p.prepare(f)
	if err == nil && (prep.truncated || prep.repairedBytes > 0) && p.fsync {
		err = f.Sync()
	}
	return prep, errors.Join(err, unlock(f))
}

// closeFile closes f, reporting a failure in *err unless it already holds
// one. Without fsync, a failed close can mean lost writes; the delivery is
// then retried (at least once).
func closeFile(f *os.File, err *error) {
	if cerr := f.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("close pool file: %w", cerr)
	}
}

// append writes the records of as many whole events as fit under the
// cap, in one write under both locks, and syncs. ends[i] is the end of
// event i's records in buf. A failed write or sync is rolled back (the file
// is truncated to its size before the write), so a retry does not leave
// a partial batch behind.
func (p *pool) append(ctx context.Context, buf []byte, ends []int) (res appendResult, err error) {
	f, err := p.open(true)
	if err != nil {
		return res, err
	}
	defer closeFile(f, &err)
	res.lockWait, err = p.lock(ctx, f, p.lockTimeout)
	if err != nil {
		return res, err
	}
	size, prep, err := p.prepare(f)
	res.prep = prep
	if err != nil {
		return res, errors.Join(err, unlock(f))
	}
	res.sizeBefore, res.sizeAfter = size, size
	n := 0
	for n < len(ends) && size+int64(ends[n]) <= p.maxBytes {
		n++
	}
	if n > 0 {
		out := buf[:ends[n-1]]
		if _, err := f.Write(out); err != nil {
			return res, errors.Join(fmt.Errorf("write pool file: %w", err), p.rollback(f, size), unlock(f))
		}
		if p.fsync {
			if err := f.Sync(); err != nil {
				return res, errors.Join(fmt.Errorf("sync pool file: %w", err), p.rollback(f, size), unlock(f))
			}
		}
		res.events, res.bytes, res.sizeAfter = n, int64(len(out)), size+int64(len(out))
	} else if p.fsync && (prep.truncated || prep.repairedBytes > 0) {
		if err := f.Sync(); err != nil {
			return res, errors.Join(fmt.Errorf("sync pool file: %w", err), unlock(f))
		}
	}
	// Unlocking cannot fail on a valid descriptor, and closing releases
	// the locks anyway: the records are written.
	_ = unlock(f)
	return res, nil
}

// rollback truncates the file to size after a failed write.
func (p *pool) rollback(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("roll back pool file to %d bytes: %w", size, err)
	}
	return nil
}
