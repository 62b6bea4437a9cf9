package lazyfs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// file is an open lazy file: writes go to the file's pending writes,
// reads overlay them on the underlying file, a sync flushes them.
type file struct {
	fs      *FS
	fd      int
	ino     uint64
	pending *pending
}

var (
	_ fs.FileReader    = (*file)(nil)
	_ fs.FileWriter    = (*file)(nil)
	_ fs.FileFsyncer   = (*file)(nil)
	_ fs.FileFlusher   = (*file)(nil)
	_ fs.FileReleaser  = (*file)(nil)
	_ fs.FileGetattrer = (*file)(nil)
	_ fs.FileSetattrer = (*file)(nil)
)

// open opens path in the underlying directory as a lazy file.
func (l *FS) open(path string, flags uint32, mode uint32) (*file, uint32, syscall.Errno) {
	flags &^= syscall.O_APPEND | fuse.FMODE_EXEC
	fd, err := syscall.Open(path, int(flags)|syscall.O_CLOEXEC, mode)
	if err != nil {
		return nil, 0, errnoOf(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		_ = syscall.Close(fd)
		return nil, 0, errnoOf(err)
	}
	if flags&syscall.O_TRUNC != 0 {
		l.pendingOf(st.Ino).truncate(0)
	}
	return &file{fs: l, fd: fd, ino: st.Ino, pending: l.pendingOf(st.Ino)}, 0, 0
}

// Read reads the synced bytes and overlays the pending writes.
func (f *file) Read(_ context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := syscall.Pread(f.fd, dest, off)
	if err != nil {
		return nil, errnoOf(err)
	}
	n = f.pending.overlay(dest, off, n)
	return fuse.ReadResultData(dest[:n]), 0
}

// Write keeps data pending until a sync.
func (f *file) Write(_ context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if f.fs.isCrashed() {
		return 0, syscall.EIO
	}
	f.pending.add(data, off)
	return uint32(len(data)), 0
}

// Fsync writes the file's pending writes (from every descriptor) to the
// underlying file and syncs it.
func (f *file) Fsync(_ context.Context, flags uint32) syscall.Errno {
	if f.fs.isCrashed() {
		return syscall.EIO
	}
	if errno := f.pending.flush(f.fd); errno != 0 {
		return errno
	}
	const datasync = 1 // FUSE_FSYNC_FDATASYNC
	var err error
	if flags&datasync != 0 {
		err = syscall.Fdatasync(f.fd)
	} else {
		err = syscall.Fsync(f.fd)
	}
	if err != nil {
		return errnoOf(err)
	}
	return 0
}

// Flush (a close of one descriptor) syncs nothing: close is not fsync.
func (f *file) Flush(context.Context) syscall.Errno { return 0 }

// Release closes the underlying descriptor; pending writes stay pending.
func (f *file) Release(context.Context) syscall.Errno {
	if err := syscall.Close(f.fd); err != nil {
		return errnoOf(err)
	}
	return 0
}

// Getattr shows pending writes in the size.
func (f *file) Getattr(_ context.Context, out *fuse.AttrOut) syscall.Errno {
	var st syscall.Stat_t
	if err := syscall.Fstat(f.fd, &st); err != nil {
		return errnoOf(err)
	}
	out.FromStat(&st)
	out.Size = f.fs.sizeOf(f.ino, out.Size)
	return 0
}

// Setattr truncates (the underlying file at once, pending writes beyond
// the size dropped) and changes mode and times.
func (f *file) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		f.pending.truncate(int64(size))
		if err := syscall.Ftruncate(f.fd, int64(size)); err != nil {
			return errnoOf(err)
		}
	}
	if mode, ok := in.GetMode(); ok {
		if err := syscall.Fchmod(f.fd, mode); err != nil {
			return errnoOf(err)
		}
	}
	return f.Getattr(ctx, out)
}
