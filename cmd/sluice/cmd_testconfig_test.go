package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exampleConfigs returns every config in examples/ (not the test files)
// and the config the Debian package installs.
func exampleConfigs(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	require.NoError(t, err)
	var out []string
	for _, f := range all {
		if !strings.HasSuffix(f, ".test.yaml") {
			out = append(out, f)
		}
	}
	require.NotEmpty(t, out)
	return append(out, filepath.Join("..", "..", "packaging", "sluice.yaml"))
}

// TestExamplesPassTheirTests is CI's run of `sluice test` over the
// embedded default config and every example, each of which must ship a
// test file.
func TestExamplesPassTheirTests(t *testing.T) {
	t.Parallel()
	args := []string{"test", "default.test.yaml"}
	for _, cfg := range exampleConfigs(t) {
		test := strings.TrimSuffix(cfg, ".yaml") + ".test.yaml"
		_, err := os.Stat(test)
		require.NoError(t, err, "every example ships with a test file")
		args = append(args, test)
	}
	code, out, errOut := sluice(t, args...)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.NotContains(t, "\n"+out, "\nFAIL ")
}

// TestDefaultTestFileTestsTheEmbeddedConfig checks that default.test.yaml
// tests the very config `sluice run` embeds.
func TestDefaultTestFileTestsTheEmbeddedConfig(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("default.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(defaultConfig), string(b))
}

func TestTestCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, defaultConfig, 0o600))
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	pass := write("c.test.yaml", "tests:\n  - events: [{from: ingest, event: {type: t}}]\n    expect: {archive: [{contains: {type: t}}]}\n")
	fail := write("f.test.yaml", "config: c.yaml\ntests:\n  - events: [{from: ingest, event: {type: t}}]\n    expect: {archive: []}\n")
	invalid := write("i.test.yaml", "config: c.yaml\ntests:\n  - events: [{from: nope, event: {type: t}}]\n    expect: {archive: []}\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "test file", args: []string{"test", pass}, wantOut: "ok: 1 tests in 1 files"},
		{name: "config beside its tests", args: []string{"test", cfg}, wantOut: "ok   " + pass},
		{name: "failing", args: []string{"test", pass, fail}, wantCode: exitFailure, wantOut: "FAIL " + fail, wantErr: "sluice: tests failed: 1 of 2"},
		{name: "directory", args: []string{"test", dir}, wantCode: exitInvalidConfig, wantErr: `no source "nope"`},
		{name: "invalid", args: []string{"test", invalid}, wantCode: exitInvalidConfig, wantErr: "sluice: " + invalid + `: test "tests[0]": invalid test file: events[0]: from: the config has no source "nope"`},
		{name: "missing", args: []string{"test", filepath.Join(dir, "nope.yaml")}, wantCode: exitInvalidConfig, wantErr: "sluice: stat "},
		{name: "no arguments", args: []string{"test"}, wantCode: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := sluice(t, tt.args...)
			require.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Contains(t, out, tt.wantOut)
			assert.Contains(t, errOut, tt.wantErr)
		})
	}
}
