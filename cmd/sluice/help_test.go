package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// commands returns cmd and every command below it.
func commands(cmd *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{cmd}
	for _, c := range cmd.Commands() {
		out = append(out, commands(c)...)
	}
	return out
}

// TestEveryCommandHasExamples: --help of every command a user can run
// shows an Examples section.
func TestEveryCommandHasExamples(t *testing.T) {
	t.Parallel()
	root := newRootCommand(streams{in: strings.NewReader(""), out: &strings.Builder{}, errOut: &strings.Builder{}, log: &logFlags{}})
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	for _, c := range commands(root) {
		if c.Hidden || c.Name() == "help" || c.Name() == cobra.ShellCompRequestCmd || c.Name() == cobra.ShellCompNoDescRequestCmd {
			continue
		}
		assert.NotEmpty(t, c.Example, "%q has no Example", c.CommandPath())
		for _, line := range strings.Split(c.Example, "\n") {
			assert.True(t, strings.HasPrefix(line, "  ") && strings.Contains(line, "sluice"),
				"%q: example lines are indented commands: %q", c.CommandPath(), line)
		}
	}
}

// TestCompletionOfNames: sink, source and route names complete from the
// configuration of -c, $SLUICE_CONFIG, or the embedded default.
func TestCompletionOfNames(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: `+dir+`/j}
admin: {listen: "off"}
sources: [{name: beat, type: heartbeat}]
sinks: [{name: alpha, type: stdout}, {name: beta, type: stdout}, {name: gamma, type: stdout}]
routes: [{name: r1, from: [beat], to: [alpha, beta]}, {name: r2, from: [beat], to: [gamma]}]
`), 0o600))
	tests := []struct {
		name string
		env  string
		args []string
		want []string
	}{
		{"replay sink", "", []string{"journal", "replay", "-c", cfg, "--sink", ""}, []string{"alpha", "beta", "gamma"}},
		{"replay sink prefix", "", []string{"journal", "-c", cfg, "replay", "--sink", "b"}, []string{"beta"}},
		{"replay route", "", []string{"journal", "replay", "-c", cfg, "--sink", "alpha", "--route", ""}, []string{"r1", "r2"}},
		{"dlq list", "", []string{"journal", "dlq", "list", "-c", cfg, "--sink", "g"}, []string{"gamma"}},
		{"dlq redrive", "", []string{"journal", "dlq", "redrive", "-c", cfg, "--sink", ""}, []string{"alpha", "beta", "gamma"}},
		{"dlq purge", "", []string{"journal", "dlq", "purge", "-c", cfg, "--sink", "a"}, []string{"alpha"}},
		{"dlq show", "", []string{"journal", "dlq", "show", "-c", cfg, ""}, []string{"alpha", "beta", "gamma"}},
		{"dlq show seq", "", []string{"journal", "dlq", "show", "-c", cfg, "alpha", ""}, nil},
		{"cursors set", "", []string{"journal", "cursors", "set", "-c", cfg, "al"}, []string{"alpha"}},
		{"cursors delete", "", []string{"journal", "cursors", "delete", "-c", cfg, ""}, []string{"alpha", "beta", "gamma"}},
		{"tap sink", "", []string{"tap", "-c", cfg, "--sink", "b"}, []string{"beta"}},
		{"tap route", "", []string{"tap", "-c", cfg, "--route", ""}, []string{"r1", "r2"}},
		{"tap source", "", []string{"tap", "-c", cfg, "--source", ""}, []string{"beat"}},
		{"SLUICE_CONFIG", cfg, []string{"journal", "replay", "--sink", ""}, []string{"alpha", "beta", "gamma"}},
		{"embedded default", "", []string{"journal", "replay", "--sink", ""}, []string{"archive", "console"}},
		{"broken config", "", []string{"journal", "replay", "-c", filepath.Join(dir, "none.yaml"), "--sink", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(configEnv, tt.env)
			code, out, errOut := sluice(t, append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
			require.Zero(t, code, errOut)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.NotEmpty(t, lines)
			assert.Equal(t, ":4", lines[len(lines)-1], "no file completion")
			assert.Equal(t, tt.want, nilIfEmpty(lines[:len(lines)-1]))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestConfigMessages: a missing configuration file is exit 3 with the
// sluice: prefix for every command that reads one, and a warning carries
// its FILE:LINE:COL and "warning:" once, never a doubled prefix.
func TestConfigMessages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.yaml")
	for _, args := range [][]string{
		{"validate", missing},
		{"run", "-c", missing},
		{"journal", "stats", "-c", missing},
		{"journal", "replay", "-c", missing, "--sink", "x"},
	} {
		code, _, errOut := sluice(t, args...)
		assert.Equal(t, exitInvalidConfig, code, "%v: %s", args, errOut)
		assert.True(t, strings.HasPrefix(errOut, "sluice: "), "%v: %q", args, errOut)
		assert.Contains(t, errOut, "the configuration file is missing")
	}
	cfg := filepath.Join(dir, "w.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: `+dir+`/j}
admin: {listen: "0.0.0.0:19999"}
sources: [{name: beat, type: heartbeat}]
sinks: [{name: out, type: stdout}]
routes: [{name: all, from: [beat], to: [out]}]
`), 0o600))
	code, out, errOut := sluice(t, "validate", "--no-provision", cfg)
	require.Zero(t, code, errOut)
	assert.Contains(t, out, "ok")
	assert.Equal(t, 1, strings.Count(errOut, "warning"), errOut)
	assert.True(t, strings.HasPrefix(errOut, cfg+":2:"), errOut)
	assert.NotContains(t, errOut, "warning: warning")
	assert.NotContains(t, errOut, "sluice: "+cfg)
}
