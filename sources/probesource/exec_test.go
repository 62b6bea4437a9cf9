package probesource_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// writeScript writes an executable shell script into dir. Another
// process writes it, so this process never holds the file open for
// writing while it forks (which would make exec fail with ETXTBSY).
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	cmd := exec.Command("/bin/sh", "-c", `cat > "$1" && chmod 755 "$1"`, "sh", path)
	cmd.Stdin = strings.NewReader("#!/bin/sh\n" + body + "\n")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return path
}

// scriptDir returns a temporary directory the commands of exec probes
// can use: as root they run as nobody, who must reach the scripts (and
// write the pid file of a test).
func scriptDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755)) //nolint:gosec // read by the probe's user
	require.NoError(t, os.Chmod(dir, 0o777))               //nolint:gosec // written by the probe's user
	return dir
}

// TestExecChecks runs real scripts: one that succeeds, one that fails,
// one that hangs (with a child), one that prints megabytes, and checks
// argv, shell, PATH lookup and the environment.
func TestExecChecks(t *testing.T) {
	t.Parallel()
	dir := scriptDir(t)
	pidFile := filepath.Join(dir, "grandchild.pid")
	ok := writeScript(t, dir, "ok.sh", `echo "all good: $1"`)
	fail := writeScript(t, dir, "fail.sh", `echo "disk full" >&2; exit 3`)
	hang := writeScript(t, dir, "hang.sh", fmt.Sprintf(`sleep 60 & echo $! > %q; wait`, pidFile))
	flood := writeScript(t, dir, "flood.sh", `head -c 20000000 /dev/zero | tr '\0' x; echo; echo tail`)
	linger := writeScript(t, dir, "linger.sh", `sleep 60 & echo started`)
	env := writeScript(t, dir, "env.sh", `env | sort`)
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	writeScript(t, bin, "mycheck", `echo "found in PATH"`)

	tests := []struct {
		name      string
		cfg       string
		healthy   bool
		err       string
		exit      int
		output    string
		contains  []string
		truncated bool
	}{
		{name: "succeeds", cfg: fmt.Sprintf("command: [%q, one]", ok), healthy: true, output: "all good: one\n"},
		{name: "fails", cfg: fmt.Sprintf("command: [%q]", fail), err: "exit status 3", exit: 3, output: "disk full\n"},
		{name: "hangs", cfg: fmt.Sprintf("{command: [%q], timeout: 200ms}", hang), err: "timed out after 200ms", exit: -1},
		{name: "prints megabytes", cfg: fmt.Sprintf("{command: [%q], max_output_bytes: 1KiB}", flood), healthy: true, output: strings.Repeat("x", 1024), truncated: true},
		{name: "child left running", cfg: fmt.Sprintf("command: [%q]", linger), healthy: true, output: "started\n"},
		{name: "shell", cfg: `{command: "echo $((6*7)) | grep 42", shell: true}`, healthy: true, output: "42\n"},
		{name: "one string is split, not run by a shell", cfg: fmt.Sprintf("command: %q", "/bin/sh "+ok+" $HOME"), healthy: true, output: "all good: $HOME\n"},
		{name: "PATH lookup", cfg: fmt.Sprintf("{command: [mycheck], env: {PATH: %q}}", bin), healthy: true, output: "found in PATH\n"},
		{name: "not found", cfg: "{command: [no-such-check], env: {PATH: /nonexistent}}", err: `"no-such-check" not found in PATH "/nonexistent"`, exit: -1},
		{name: "environment", cfg: fmt.Sprintf("{command: [%q], env: {GREETING: hello}}", env), healthy: true, contains: []string{"GREETING=hello\n", "PATH=" + os.Getenv("PATH") + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			if !strings.HasPrefix(cfg, "{") {
				cfg = "{" + cfg + "}"
			}
			if !strings.Contains(cfg, "timeout:") {
				cfg = strings.Replace(cfg, "{", "{timeout: 10s, ", 1)
			}
			cfg = strings.Replace(cfg, "{", "{kind: exec, interval: 50ms, failure_threshold: 1, ", 1)
			began := time.Now()
			d := firstState(t, cfg)
			assert.Less(t, time.Since(began), 5*time.Second, "no check waits for a child that outlives it")
			assert.Equal(t, tt.healthy, d.Healthy, d.Error)
			require.NotNil(t, d.ExitCode)
			assert.Equal(t, tt.exit, *d.ExitCode)
			assert.Equal(t, tt.truncated, d.OutputTruncated)
			if tt.contains == nil {
				assert.Equal(t, tt.output, d.Output)
			}
			for _, c := range tt.contains {
				assert.Contains(t, d.Output, c)
			}
			if !tt.healthy {
				assert.Contains(t, d.Error, tt.err)
			}
		})
	}
	t.Run("environment is only what is configured", func(t *testing.T) {
		t.Parallel()
		d := firstState(t, fmt.Sprintf("{kind: exec, interval: 50ms, command: [%q], env: {A: b}}", env))
		lines := strings.Split(strings.TrimSpace(d.Output), "\n")
		var names []string
		for _, l := range lines {
			name, _, _ := strings.Cut(l, "=")
			names = append(names, name)
		}
		// sh itself may add PWD, SHLVL and _.
		for _, n := range names {
			assert.Contains(t, []string{"A", "PATH", "PWD", "SHLVL", "_"}, n, "unexpected variable in %q", d.Output)
		}
	})
	t.Run("a timeout kills the process group", func(t *testing.T) {
		t.Parallel()
		// The "hangs" case above started a grandchild; wait for its pid
		// file, then for it to be gone.
		var pid int
		require.Eventually(t, func() bool {
			b, err := os.ReadFile(pidFile)
			if err != nil {
				return false
			}
			pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
			return err == nil
		}, waitTimeout, 10*time.Millisecond)
		require.Eventually(t, func() bool { return !alive(pid) }, waitTimeout, 10*time.Millisecond, "grandchild %d still running", pid)
	})
}

// alive reports whether pid runs (a zombie waiting for its reaper does
// not count).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(after, "Z") && !strings.HasPrefix(after, "X")
}

// TestExecFloodMemory checks that a command printing 200 MB costs the
// probe no more than a little memory. Not parallel: it reads the
// process's allocation counter.
func TestExecFloodMemory(t *testing.T) {
	dir := scriptDir(t)
	flood := writeScript(t, dir, "flood.sh", `head -c 200000000 /dev/zero`)
	cfg, err := decode(t, fmt.Sprintf("{kind: exec, interval: 1h, timeout: 60s, failure_threshold: 1, command: [%q]}", flood))
	require.NoError(t, err)
	src, err := probesource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("probe"), cfg)
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	host := pipelinetest.NewRecordingHost("probe")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, host) }()
	evs := waitFor(t, host, probesource.TypeState, 1)
	cancel()
	require.NoError(t, <-done)
	runtime.ReadMemStats(&after)
	d := dataOf(t, evs[0])
	assert.True(t, d.Healthy, d.Error)
	assert.True(t, d.OutputTruncated)
	assert.Len(t, d.Output, 4096, "the default bound")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "allocated while the command printed 200 MB")
}
