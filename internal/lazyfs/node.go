package lazyfs

import (
	"context"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a loopback node whose regular files are opened as lazy files
// and whose attributes show pending writes.
type node struct {
	*fs.LoopbackNode
	fs *FS
}

var (
	_ fs.NodeWrapChilder = (*node)(nil)
	_ fs.NodeOpener      = (*node)(nil)
	_ fs.NodeCreater     = (*node)(nil)
	_ fs.NodeGetattrer   = (*node)(nil)
	_ fs.NodeSetattrer   = (*node)(nil)
)

// WrapChild makes every node below the root a lazy node too.
func (n *node) WrapChild(_ context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	if lb, ok := ops.(*fs.LoopbackNode); ok {
		return &node{LoopbackNode: lb, fs: n.fs}
	}
	return ops
}

// path is the node's path in the underlying directory.
func (n *node) path() string {
	return filepath.Join(n.fs.underlying, n.Path(nil))
}

// Open opens a lazy file on the underlying file.
func (n *node) Open(_ context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return n.fs.open(n.path(), flags, 0)
}

// Create creates the underlying file (at once) and opens it lazily.
func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	ch, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return ch, fh, fuseFlags, errno
	}
	if r, ok := fh.(fs.FileReleaser); ok {
		_ = r.Release(ctx) // the loopback's own handle; ours replaces it
	}
	lf, _, errno := n.fs.open(filepath.Join(n.path(), name), flags&^(syscall.O_CREAT|syscall.O_EXCL|syscall.O_TRUNC), 0)
	return ch, lf, 0, errno
}

// Getattr shows pending writes in the size.
func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if lf, ok := f.(*file); ok {
		return lf.Getattr(ctx, out)
	}
	if errno := n.LoopbackNode.Getattr(ctx, f, out); errno != 0 {
		return errno
	}
	if out.Mode&syscall.S_IFMT == syscall.S_IFREG {
		ino, errno := inoOf(n.path())
		if errno != 0 {
			return errno
		}
		out.Size = n.fs.sizeOf(ino, out.Size)
	}
	return 0
}

// Setattr trims pending writes on a truncate, then applies the change to
// the underlying file.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if lf, ok := f.(*file); ok {
		return lf.Setattr(ctx, in, out)
	}
	if size, ok := in.GetSize(); ok {
		ino, errno := inoOf(n.path())
		if errno != 0 {
			return errno
		}
		n.fs.pendingOf(ino).truncate(int64(size))
	}
	if errno := n.LoopbackNode.Setattr(ctx, f, in, out); errno != 0 {
		return errno
	}
	return n.Getattr(ctx, nil, out)
}
