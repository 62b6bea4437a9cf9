package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/internal/unixsock"
)

// listenAdminSocket binds the admin API's Unix socket: mode 0600 (0666
// when admin.allow_uids lets other users in: the peer check then decides).
// The engine holds the journal lock, so a socket left at the path by an
// engine that died is replaced.
func listenAdminSocket(c config.AdminConfig, journalDir string) (*unixsock.Listener, error) {
	path := c.SocketPath(journalDir)
	// Another user who can write the socket's directory could put a
	// socket of their own in its place and answer the CLI.
	if err := safefile.CheckDir("admin socket directory", filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("admin socket: %w (or set admin.socket)", err)
	}
	perm := fs.FileMode(0o600)
	if len(c.AllowUIDs) > 0 {
		perm = 0o666
	}
	ln, err := unixsock.Listen(path, perm)
	if errors.Is(err, unixsock.ErrPathTooLong) {
		return nil, fmt.Errorf("admin socket: %w (set admin.socket to a shorter path, such as /run/sluice/admin.sock)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return ln, nil
}

// socketHandler is every admin route behind the peer check: a request is
// served only if the kernel says its peer is root, the engine's own user
// or one of allow (SO_PEERCRED, read when the connection was accepted).
func (a *admin) socketHandler(allow unixsock.Policy) http.Handler {
	h := a.handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred, ok := unixsock.CredFrom(r.Context())
		if !ok || !allow.Allows(cred) {
			err := fmt.Errorf("uid %d may not use the admin socket: it accepts root, the engine's user (uid %d) and admin.allow_uids", cred.UID, os.Geteuid())
			if !ok {
				err = errors.New("the admin socket's peer credentials are unknown")
			}
			a.refused(r, "socket", "peer", err, slog.Int64("uid", int64(cred.UID)), slog.Int64("gid", int64(cred.GID)), slog.Int64("pid", int64(cred.PID)))
			writeJSONError(w, http.StatusForbidden, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// checkSocketOwner refuses a socket at path that is not a socket or whose
// owner is neither root nor the owner of the journal directory dir (the
// engine's user): the CLI does not talk to a socket another user made.
func checkSocketOwner(path, dir string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s", unixsock.ErrNotSocket, path)
	}
	di, err := os.Stat(dir)
	if err != nil {
		return err
	}
	sock, ok1 := fi.Sys().(*syscall.Stat_t)
	jdir, ok2 := di.Sys().(*syscall.Stat_t)
	if ok1 && ok2 && sock.Uid != 0 && sock.Uid != jdir.Uid {
		return fmt.Errorf("%w: the admin socket %s is owned by uid %d, not by root or the journal's owner (uid %d): another user may have made it", safefile.ErrUnsafe, path, sock.Uid, jdir.Uid)
	}
	return nil
}
