package unixsock_test

import (
	"context"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/unixsock"
)

func TestListenModeAndCredentials(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "admin.sock")
	ln, err := unixsock.Listen(path, 0o600)
	require.NoError(t, err)
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSocket, fi.Mode().Type())
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the private bind directory is removed")

	accepted := make(chan unixsock.Cred, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		ctx := unixsock.ConnContext(context.Background(), c)
		cred, _ := unixsock.CredFrom(ctx)
		accepted <- cred
		_ = c.Close()
	}()
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	cred := <-accepted
	assert.Equal(t, uint32(os.Geteuid()), cred.UID)
	assert.Equal(t, uint32(os.Getegid()), cred.GID)
	assert.Equal(t, int32(os.Getpid()), cred.PID)
	assert.True(t, unixsock.Policy{}.Allows(cred))

	require.NoError(t, ln.Close())
	_, err = os.Lstat(path)
	assert.ErrorIs(t, err, fs.ErrNotExist, "Close removes the socket file")
}

func TestListenReplacesOnlyStaleSockets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	old, err := net.Listen("unix", stale)
	require.NoError(t, err)
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, old.Close())
	ln, err := unixsock.Listen(stale, 0o600)
	require.NoError(t, err, "a stale socket is replaced")
	require.NoError(t, ln.Close())

	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("keep"), 0o600))
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("keep"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	for _, p := range []string{file, link, dir} {
		_, err := unixsock.Listen(p, 0o600)
		require.ErrorIs(t, err, unixsock.ErrNotSocket, p)
	}
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b))
	b, err = os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b))

	_, err = unixsock.Listen(filepath.Join(dir, strings.Repeat("x", 120)), 0o600)
	require.ErrorIs(t, err, unixsock.ErrPathTooLong)
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    unixsock.Policy
		uid  uint32
		want bool
	}{
		{name: "root", uid: 0, want: true},
		{name: "self", uid: uint32(os.Geteuid()), want: true},
		{name: "other", uid: 65534, want: os.Geteuid() == 65534},
		{name: "listed", p: unixsock.Policy{UIDs: []uint32{65534}}, uid: 65534, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.p.Allows(unixsock.Cred{UID: tt.uid}))
		})
	}
}
