package unixsock

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// MaxPathLen is the longest socket path the kernel accepts (sun_path is
// 108 bytes with its terminating NUL).
const MaxPathLen = 107

// ErrPathTooLong is returned by Listen for a path over MaxPathLen.
var ErrPathTooLong = errors.New("unix socket path too long")

// ErrNotSocket is returned by Listen when something other than a socket
// (a file, a directory, a symbolic link) is at the path: it is never
// removed.
var ErrNotSocket = errors.New("not a unix socket")

// Listen binds a Unix stream socket at path with file mode perm and
// returns a listener whose connections are *Conn (with the peer's
// credentials). A stale socket at path (left by a process that died) is
// replaced; anything else at path is refused with ErrNotSocket. The
// caller must hold whatever guarantees that no live server uses path
// (Sluice: the journal lock). Closing the listener removes the socket
// file.
//
// The socket is bound inside a new directory of mode 0700 next to path,
// chmod-ed to perm and renamed to path, so that it is never reachable
// with a looser mode, whatever the umask.
func Listen(path string, perm fs.FileMode) (*Listener, error) {
	if len(path) > MaxPathLen {
		return nil, fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrPathTooLong, path, len(path), MaxPathLen)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(path), ".sock-")
	if err != nil {
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	defer func() { _ = os.RemoveAll(tmpDir) }()
	tmp := filepath.Join(tmpDir, "s")
	if len(tmp) > MaxPathLen {
		// The private directory's name is longer than path's last
		// element: bind in place instead, in a directory the caller
		// checked (the umask still bounds the mode until the chmod).
		tmp = path
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*Listener, error) {
		_ = ln.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return fail(err)
	}
	if tmp != path {
		if err := os.Rename(tmp, path); err != nil {
			return fail(err)
		}
	}
	return &Listener{ln: ln, path: path}, nil
}

// removeStale removes a socket left at path and refuses anything else.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("unix socket %s: %w", path, err)
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("%w: %s is a %s; remove it or configure another path", ErrNotSocket, path, describe(fi.Mode()))
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unix socket %s: remove stale socket: %w", path, err)
	}
	return nil
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "special file (" + m.Type().String() + ")"
}

// Listener is a Unix socket listener whose Accept returns *Conn.
type Listener struct {
	ln   *net.UnixListener
	path string
}

var _ net.Listener = (*Listener)(nil)

// Accept waits for a connection and reads its peer's credentials. A
// connection whose credentials cannot be read is closed and Accept waits
// for the next one.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.ln.AcceptUnix()
		if err != nil {
			return nil, err
		}
		cred, err := peerCred(c)
		if err != nil {
			_ = c.Close()
			continue
		}
		return &Conn{UnixConn: c, cred: cred}, nil
	}
}

// Close stops listening and removes the socket file (only if it is still
// the socket this listener bound).
func (l *Listener) Close() error {
	fi, statErr := os.Lstat(l.path)
	err := l.ln.Close()
	if statErr == nil && fi.Mode().Type() == fs.ModeSocket {
		_ = os.Remove(l.path)
	}
	return err
}

// Addr returns the socket's address.
func (l *Listener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// Path returns the socket file's path.
func (l *Listener) Path() string { return l.path }

// Conn is an accepted connection with its peer's credentials.
type Conn struct {
	*net.UnixConn
	cred Cred
}

// Cred returns the peer's credentials at connect time.
func (c *Conn) Cred() Cred { return c.cred }

// Cred is a peer's credentials as the kernel reported them.
type Cred struct {
	PID int32
	UID uint32
	GID uint32
}

func peerCred(c *net.UnixConn) (Cred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Cred{}, err
	}
	var (
		uc     *syscall.Ucred
		getErr error
	)
	if err := raw.Control(func(fd uintptr) {
		uc, getErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return Cred{}, err
	}
	if getErr != nil {
		return Cred{}, fmt.Errorf("SO_PEERCRED: %w", getErr)
	}
	return Cred{PID: uc.Pid, UID: uc.Uid, GID: uc.Gid}, nil
}
