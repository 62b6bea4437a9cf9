// Package lazyfs is a FUSE file system for power-loss tests, in the spirit
// of LazyFS (dsrhaslab/lazyfs): a loopback of a directory that keeps every
// write to a file in memory until the file is fsync'd (fsync or
// fdatasync, on any descriptor of the file), and Crash drops whatever was
// not synced, as a power cut drops the page cache. Tests run the engine
// (a child process) with its journal on the mount, SIGKILL it, call Crash,
// unmount, and check the underlying directory: what was acknowledged must
// be there.
//
// The FUSE plumbing is github.com/hanwen/go-fuse/v2 (its loopback file
// system); this package adds only the lazy file data. LazyFS itself is a
// C++ program that is not packaged for Debian and could not be built here,
// which is why it is rebuilt in this small form.
//
// What it models and what it does not:
//   - File data: writes are pending until a sync of the file; reads see
//     them (overlaid on the file's synced content), and so does the file
//     size; Crash loses them all.
//   - Metadata (create, rename, unlink, mkdir, truncate, chmod) is applied
//     to the underlying directory at once, as if every such operation were
//     followed by a sync of its directory. The journal syncs its directory
//     after creating or renaming a segment, so this hides no bug of its
//     own, but it does not test a missing directory sync.
//   - Writes are lost whole or kept whole (per write call, never torn
//     inside one write), and all unsynced writes are lost together.
//
// It needs /dev/fuse and root (or fusermount); Mount says so clearly when
// either is missing.
package lazyfs
