package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateNeverPrintsInterpolatedValues checks issue 13 item 6:
// values filled in from ${file:...} (and ${VAR}) appear in no message of
// `sluice validate`, neither in a component's validation error nor in a
// provisioning error; the reference is shown instead.
func TestValidateNeverPrintsInterpolatedValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret"), []byte("TOPSECRET-FILE-CONTENT\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokpath"), []byte("/nonexistent/TOPSECRET-PATH\n"), 0o600))
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: ./j}
sources:
  - {name: hb, type: heartbeat, with: {interval: 10s}}
  - {name: p, type: probe, with: {kind: exec, command: [/bin/true], user: "${file:secret} x"}}
sinks:
  - {name: h, type: http, with: {url: "https://collector.example/e", bearer_token_file: "${file:tokpath}"}}
routes:
  - {name: r, from: [hb, p], to: [h]}
`), 0o600))
	code, out, errOut := sluice(t, "validate", "-c", cfg)
	require.Equal(t, exitInvalidConfig, code, out)
	assert.Contains(t, errOut, `got "${file:secret} x"`)
	assert.NotContains(t, errOut, "TOPSECRET")

	// Valid, but the token file does not exist: the provisioning error
	// names the reference, not the path it expanded to.
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: ./j}
sources: [{name: hb, type: heartbeat, with: {interval: 10s}}]
sinks:
  - {name: h, type: http, with: {url: "https://collector.example/e", bearer_token_file: "${file:tokpath}"}}
routes: [{name: r, from: [hb], to: [h]}]
`), 0o600))
	code, out, errOut = sluice(t, "validate", "-c", cfg)
	require.NotZero(t, code, out)
	assert.Contains(t, errOut, "${file:tokpath}")
	assert.NotContains(t, errOut, "TOPSECRET")
}
