package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Route names in the rules of the real VES and hostplugin sinks are
// references: a typo is a FILE:LINE:COL error with a suggestion.
func TestValidateSinkRuleRoutes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: `+filepath.Join(dir, "j")+`}
admin: {listen: "off"}
sources:
  - {name: web, type: heartbeat}
sinks:
  - name: ves
    type: ves
    with:
      url: http://127.0.0.1:1/eventListener/v7
      rules:
        - {routes: [probez], types: ["sluice.probe.*"], domain: fault}
  - name: host
    type: hostplugin
    with:
      endpoint: 127.0.0.1
      source: sluice
      observations:
        - {name: x, types: ["sluice.*"], routes: [prbes], healthy: {from: data.healthy}}
routes:
  - {name: probes, from: [web], to: [ves, host]}
`), 0o600))

	code, out, errOut := sluice(t, "validate", "-c", cfg, "--no-provision")
	require.Equal(t, exitInvalidConfig, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, errOut, cfg+`:11:21: sinks[0].with.rules[0].routes[0]: sink "ves": unknown route "probez" (did you mean "probes"?) (defined routes: probes)`)
	assert.Contains(t, errOut, cfg+`:18:51: sinks[1].with.observations[0].routes[0]: sink "host": unknown route "prbes" (did you mean "probes"?) (defined routes: probes)`)
}
