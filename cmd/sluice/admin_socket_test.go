package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/unixsock"
)

// serveAdminSocket serves a on the admin socket of the journal in dir, as
// a running engine does, until the test ends, and returns the socket's
// path.
func serveAdminSocket(t *testing.T, dir string, a *admin) string {
	t.Helper()
	id, err := identify(dir)
	require.NoError(t, err)
	a.identity = id
	ln, err := listenAdminSocket(config.DefaultAdminConfig(), dir)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveAdmin(ctx, ln, a.socketHandler(unixsock.Policy{}), defaultAdminTimeouts, a.log, unixsock.ConnContext)
	}()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return ln.Path()
}
