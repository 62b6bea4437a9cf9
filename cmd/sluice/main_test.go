package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
)

// sluice runs the command in-process and returns its exit code and output.
func sluice(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("journal: {dir: ./j}\nsourcez: []\n"), 0o600))
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "help", args: []string{"--help"}, wantOut: "Exit codes:"},
		{name: "version", args: []string{"version"}, wantOut: "sluice "},
		{name: "validate default", args: []string{"validate"}, wantOut: "<embedded>/default.yaml: ok"},
		{name: "invalid config", args: []string{"validate", "-c", bad}, wantCode: exitInvalidConfig, wantErr: bad + ":2:1: "},
		{name: "unknown command", args: []string{"nope"}, wantCode: exitUsage, wantErr: "unknown command"},
		{name: "unknown flag", args: []string{"run", "--nope"}, wantCode: exitUsage, wantErr: "unknown flag"},
		{name: "extra argument", args: []string{"version", "x"}, wantCode: exitUsage},
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

func TestJournalCommandsOnEmptyJournal(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "j")
	code, _, errOut := sluice(t, "journal", "stats", "--dir", dir)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "journal not found", "inspection never creates a journal")
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	require.NoError(t, j.Close(context.Background()))
	code, out, errOut := sluice(t, "journal", "stats", "--dir", dir)
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"last": 0`)
	code, out, errOut = sluice(t, "journal", "tail", "--dir", dir)
	require.Zero(t, code, errOut)
	assert.Empty(t, out)
	code, out, errOut = sluice(t, "journal", "verify", "--dir", dir)
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"records": 0`)
}
