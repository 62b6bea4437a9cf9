package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/unixsock"
)

// listenAdminSocket binds the admin API's Unix socket: mode 0600 (0666
// when admin.allow_uids lets other users in: the peer check then decides).
// The engine holds the journal lock, so a socket left at the path by an
// engine that died is replaced.
func listenAdminSocket(c config.AdminConfig, journalDir string) (*unixsock.Listener, error) {
	path := c.SocketPath(journalDir)
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
