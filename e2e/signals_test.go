package e2e

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SIGHUP (systemd ExecReload, logrotate) must not end the engine: it
// reloads the configuration (here the same one: nothing changes) and
// keeps running.
func TestSIGHUPKeepsEngineRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	e := startEngine(t, "", "SLUICE_DATA="+dir, "SLUICE_INGEST="+ingest, "SLUICE_ADMIN="+admin)
	e.waitReady(admin, 30*time.Second)
	for range 2 {
		require.NoError(t, e.cmd.Process.Signal(syscall.SIGHUP))
	}
	require.Eventually(t, func() bool {
		return strings.Contains(e.stderr.String(), "configuration reloaded: no source or sink changed")
	}, 10*time.Second, 20*time.Millisecond, "stderr: %s", e.stderr.String())
	select {
	case <-e.done:
		t.Fatalf("sluice exited on SIGHUP: %v\n%s", e.err, e.stderr.String())
	case <-time.After(300 * time.Millisecond):
	}
	assert.NotContains(t, e.stderr.String(), "level=ERROR")
	client := &http.Client{Timeout: 5 * time.Second}
	require.Equal(t, http.StatusAccepted, postEvent(client, "http://"+ingest+"/events", "after-hup"))
	e.waitReady(admin, 5*time.Second)
	require.NoError(t, e.stop(30*time.Second), "a clean stop after SIGHUP")
}

// `sluice run` binds its listeners before it creates anything on disk, and
// a busy address names the variable that moves it.
func TestRunBusyListenerCreatesNothing(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = busy.Close() })
	tests := []struct {
		name, variable string
		env            func(data string) []string
	}{
		{name: "admin", variable: "SLUICE_ADMIN", env: func(data string) []string {
			return []string{"SLUICE_DATA=" + data, "SLUICE_INGEST=" + freeAddr(t), "SLUICE_ADMIN=" + busy.Addr().String()}
		}},
		{name: "ingest", variable: "SLUICE_INGEST", env: func(data string) []string {
			return []string{"SLUICE_DATA=" + data, "SLUICE_INGEST=" + busy.Addr().String(), "SLUICE_ADMIN=" + freeAddr(t)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "sluice-data")
			_, stderr, code := sluice(t, tt.env(data), "run")
			assert.NotZero(t, code)
			assert.Contains(t, stderr, busy.Addr().String())
			assert.Contains(t, stderr, "$"+tt.variable, "the error names the variable that moves the listener")
			_, err := os.Stat(data)
			assert.ErrorIs(t, err, os.ErrNotExist, "nothing is created before the listeners are bound")
		})
	}
}
