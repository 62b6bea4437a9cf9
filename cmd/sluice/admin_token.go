package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/sluice-dev/sluice/internal/safefile"
)

// errTokenFile is wrapped by every refusal of a token file.
var errTokenFile = errors.New("admin token file")

// adminToken returns the TCP admin API's bearer token from path, first
// generating one there (32 random bytes, base64url, mode 0600) if the
// file does not exist. The engine calls it; the file must be owned by the
// engine's user or root.
func adminToken(path string) (string, error) {
	tok, err := readAdminToken(path, true)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("%w %s: generate: %w", errTokenFile, path, err)
	}
	tok = base64.RawURLEncoding.EncodeToString(raw)
	f, err := safefile.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readAdminToken(path, true) // another process made it first
	}
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", errTokenFile, path, err)
	}
	_, err = f.WriteString(tok + "\n")
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("%w %s: %w", errTokenFile, path, err)
	}
	return tok, nil
}

// readAdminToken reads a token file, which must be a regular file (not a
// link) that group and others cannot access, and, with owned, owned by
// this user or root.
func readAdminToken(path string, owned bool) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return "", fmt.Errorf("%w %s is a symbolic link: configure the real path", errTokenFile, path)
		}
		return "", fmt.Errorf("%w: %w", errTokenFile, err)
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", errTokenFile, path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w %s is not a regular file", errTokenFile, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%w %s may be read by group or others (mode %04o): run chmod 600 %s", errTokenFile, path, perm, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && owned && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return "", fmt.Errorf("%w %s is owned by uid %d, not by this user (uid %d) or root: another user could know the token", errTokenFile, path, st.Uid, os.Geteuid())
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", errTokenFile, path, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", fmt.Errorf("%w %s must hold one token of printable ASCII without spaces", errTokenFile, path)
	}
	return tok, nil
}
