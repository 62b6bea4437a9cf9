package e2e

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPeerJobSluiceConfigValidates keeps bench/peers/configs/sluice.yaml,
// the config BenchmarkPeerJob (tag peers, outside the test command) runs
// sluice with, valid as the engine changes: `sluice validate` accepts it
// with the variables the benchmark sets.
func TestPeerJobSluiceConfigValidates(t *testing.T) {
	dir := t.TempDir()
	env := []string{
		"PEER_DIR=" + dir, "PEER_LISTEN=127.0.0.1:1", "PEER_ADMIN=127.0.0.1:2",
		"PEER_TARGET=http://127.0.0.1:3/events",
	}
	stdout, stderr, code := sluice(t, env, "validate", "-c", filepath.Join("..", "bench", "peers", "configs", "sluice.yaml"))
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "ok")
}
