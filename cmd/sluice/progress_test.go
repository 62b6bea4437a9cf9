package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// openPTY returns a pseudo-terminal's two ends, the terminal 200 columns
// wide, and everything written to the terminal end as it arrives.
func openPTY(t *testing.T) (tty *os.File, output func() string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	require.NoError(t, pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: 200}))
	var buf lockedWriter
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(&buf, ptmx)
	}()
	t.Cleanup(func() {
		_ = tty.Close()
		_ = ptmx.Close()
		<-done
	})
	return tty, buf.String
}

func TestProgressBarOnATerminal(t *testing.T) {
	t.Parallel()
	tty, output := openPTY(t)
	p := newProgress(tty, "verify", "records", 0)
	require.True(t, p.terminal)
	p.setTotal(200) // known before the first report: the bar is drawn to it
	p.set(50, "")
	require.Eventually(t, func() bool { return strings.Contains(output(), "/200, ") }, 5*time.Second, 10*time.Millisecond, "%q", output())
	time.Sleep(150 * time.Millisecond) // past the bar's redraw throttle
	p.set(150, "")
	require.Eventually(t, func() bool { return strings.Contains(output(), "(150/200, ") }, 5*time.Second, 10*time.Millisecond, "%q", output())
	assert.Contains(t, output(), "records/s")
	assert.Contains(t, output(), " 75%")
	p.finish()
	assert.NotContains(t, output(), "/-", "never an unknown total once it is known")
}

// progressJournal creates a stopped journal of n records.
func progressJournal(t *testing.T, n int) string {
	t.Helper()
	dir, _ := cursorJournal(t)
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	ctx := context.Background()
	for i := 0; i < n; i += 1000 {
		_, err = j.Append(ctx, pipeline.AppendBatch{Events: journaltest.Events(i, min(1000, n-i))})
		require.NoError(t, err)
	}
	require.NoError(t, j.Close(ctx))
	return dir
}

// The commands on a terminal: stderr is a pseudo-terminal and shows the
// bar with the range's total, stdout (a pipe) carries only the output.
func TestProgressOfCommandsOnATerminal(t *testing.T) {
	t.Parallel()
	dir := progressJournal(t, 9990) // 10,000 records with cursorJournal's
	cfg := filepath.Join(t.TempDir(), "replay.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: `+dir+`}
admin: {listen: "off"}
sources: [{name: hb, type: heartbeat, with: {interval: 1h}}]
sinks: [{name: out, type: file, with: {path: `+filepath.Join(t.TempDir(), "out.jsonl")+`}}]
routes: [{name: all, from: [hb], to: [out]}]
`), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"verify", []string{"journal", "verify", "--dir", dir}, "/10000, "},
		{"repair", []string{"journal", "repair", "--dir", dir}, "/10000, "},
		{"replay", []string{"journal", "replay", "-c", cfg, "--sink", "out", "--from", "2001", "--rate", "4000"}, "/8000, "},
		{"export range", []string{"journal", "export", "--dir", dir, "--from", "11", "--to", "9010"}, "/9000, "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tty, output := openPTY(t)
			r, w, err := os.Pipe()
			require.NoError(t, err)
			lines := make(chan int, 1)
			go func() {
				n := 0
				sc := bufio.NewScanner(r)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					n++
				}
				lines <- n
			}()
			code := run(context.Background(), tt.args, strings.NewReader(""), w, tty)
			require.NoError(t, w.Close())
			require.Zero(t, code, output())
			<-lines
			require.Eventually(t, func() bool { return strings.Contains(output(), tt.want) }, 5*time.Second, 10*time.Millisecond, "%q", output())
			assert.NotContains(t, output(), "/-")
		})
	}
}

// Not parallel: it shortens progressInterval (parallel tests start after).
// Off a terminal, progress is plain lines on stderr; an export to stdout
// carries nothing else.
func TestProgressLinesStayOffStdout(t *testing.T) {
	old := progressInterval
	progressInterval = time.Nanosecond
	defer func() { progressInterval = old }()
	dir := progressJournal(t, 8990)
	code, out, errOut := sluice(t, "journal", "export", "--dir", dir)
	require.Zero(t, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 9001, "9000 records and the manifest")
	for _, l := range lines {
		require.True(t, strings.HasPrefix(l, "{"), "only JSON on stdout: %q", l)
	}
	assert.Contains(t, errOut, "/9000 records (")
	code, out, errOut = sluice(t, "journal", "verify", "--dir", dir)
	require.Zero(t, code, errOut)
	assert.Contains(t, errOut, "/9000 records (")
	assert.NotContains(t, out, "records (")
}
