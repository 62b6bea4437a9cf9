package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validate provisions the components: a certificate run could not read is
// a FILE:LINE:COL error at its setting before run; --no-provision checks
// the file alone. Nothing is created.
func TestValidateProvisions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: `+filepath.Join(dir, "j")+`}
admin: {listen: "off"}
sources:
  - name: in
    type: http
    with:
      listen: 127.0.0.1:0
      tls: {cert_file: `+filepath.Join(dir, "missing.crt")+`, key_file: `+filepath.Join(dir, "missing.key")+`}
sinks:
  - name: web
    type: http
    with:
      url: https://example.invalid/x
      tls:
        ca_file: `+filepath.Join(dir, "missing-ca.pem")+`
routes: [{name: all, from: [in], to: [web]}]
`), 0o600))

	code, out, errOut := sluice(t, "validate", "-c", cfg)
	require.Equal(t, exitInvalidConfig, code, "stdout: %s\nstderr: %s", out, errOut)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	var located []string
	for _, l := range lines {
		if strings.HasPrefix(l, cfg+":") {
			located = append(located, l)
		}
	}
	require.Len(t, located, 2, errOut)
	assert.Contains(t, located[0], cfg+":8:24: sources[0].with.tls.cert_file: ")
	assert.Contains(t, located[0], "missing.crt")
	assert.Contains(t, located[1], cfg+":15:18: sinks[0].with.tls.ca_file: ")
	assert.Contains(t, located[1], "missing-ca.pem")

	code, out, errOut = sluice(t, "validate", "-c", cfg, "--no-provision")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, ": ok (1 sources, 1 sinks, 1 routes)")
	assert.NoDirExists(t, filepath.Join(dir, "j"))
}

// validate reads the admin section's TLS files and an existing token
// file, and reports their problems at the setting.
func TestValidateProvisionsAdmin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jdir := filepath.Join(dir, "j")
	require.NoError(t, os.Mkdir(jdir, 0o700))
	token := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(token, []byte("t0ken\n"), 0o644))
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: `+jdir+`}
admin:
  api: tcp
  token_file: `+token+`
  tls: {cert_file: `+filepath.Join(dir, "missing.crt")+`, key_file: `+filepath.Join(dir, "missing.key")+`}
`+minimalPipeline), 0o600))
	code, out, errOut := sluice(t, "validate", "-c", cfg)
	require.Equal(t, exitInvalidConfig, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, errOut, cfg+":4:15: admin.token_file: ")
	assert.Contains(t, errOut, "chmod 600")
	assert.Contains(t, errOut, cfg+":5:20: admin.tls.cert_file: ")
	assert.Contains(t, errOut, "missing.crt")
}
