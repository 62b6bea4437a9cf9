package lazyfs

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// ErrUnavailable is returned by Mount when FUSE cannot be used here (no
// /dev/fuse, or not allowed to mount).
var ErrUnavailable = errors.New("lazyfs: FUSE unavailable")

// FS is a mounted lazy loopback of a directory.
type FS struct {
	underlying string
	server     *fuse.Server

	mu      sync.Mutex
	files   map[uint64]*pending // by underlying inode number
	crashed bool

	// unmountMu guards unmounted; never held with mu (unmounting makes
	// the kernel send requests that take mu).
	unmountMu sync.Mutex
	unmounted bool
}

// Mount mounts a lazy loopback of the directory underlying at mountpoint
// (both must exist). Unmount it when done.
func Mount(underlying, mountpoint string) (*FS, error) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l := &FS{underlying: underlying, files: map[uint64]*pending{}}
	inner, err := fs.NewLoopbackRoot(underlying)
	if err != nil {
		return nil, fmt.Errorf("lazyfs: %w", err)
	}
	root := &node{LoopbackNode: inner.(*fs.LoopbackNode), fs: l}
	noCache := time.Duration(0)
	l.server, err = fs.Mount(mountpoint, root, &fs.Options{
		AttrTimeout: &noCache, EntryTimeout: &noCache, NegativeTimeout: &noCache,
		MountOptions: fuse.MountOptions{DirectMount: true, FsName: "lazyfs", Name: "lazyfs", DisableXAttrs: true},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: mount %s: %w", ErrUnavailable, mountpoint, err)
	}
	return l, nil
}

// Crash drops every write not yet synced, as a power cut would, and
// fails every later write and sync with EIO. Call it after the processes
// writing through the mount are dead, then Unmount.
func (l *FS) Crash() (droppedFiles int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.crashed = true
	for _, p := range l.files {
		if p.end() > 0 {
			droppedFiles++
		}
		p.drop()
	}
	return droppedFiles
}

// Unmount unmounts the file system (retrying while the kernel still
// holds it busy, for up to a few seconds). Pending writes are not
// flushed. It is idempotent.
func (l *FS) Unmount() error {
	l.unmountMu.Lock()
	defer l.unmountMu.Unlock()
	if l.unmounted {
		return nil
	}
	var err error
	for range 50 {
		if err = l.server.Unmount(); err == nil {
			l.unmounted = true
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("lazyfs: unmount: %w", err)
}

// pendingOf returns the pending writes of the file with underlying inode
// ino, creating the record.
func (l *FS) pendingOf(ino uint64) *pending {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.files[ino]
	if !ok {
		p = &pending{}
		l.files[ino] = p
	}
	return p
}

// isCrashed reports whether Crash was called.
func (l *FS) isCrashed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.crashed
}

// sizeOf is the size a file shows: its synced size or the end of its
// furthest pending write, whichever is larger.
func (l *FS) sizeOf(ino uint64, synced uint64) uint64 {
	return max(synced, uint64(l.pendingOf(ino).end()))
}

// inoOf is the underlying inode number of the file at path.
func inoOf(path string) (uint64, syscall.Errno) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return 0, errnoOf(err)
	}
	return st.Ino, 0
}
