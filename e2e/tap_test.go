//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tapEvent is the part of a `sluice tap --output json` line the tests read.
type tapEvent struct {
	Type    string `json:"type"`
	Point   string `json:"point"`
	Source  string `json:"source"`
	Route   string `json:"route"`
	Sink    string `json:"sink"`
	Seq     uint64 `json:"seq"`
	Outcome string `json:"outcome"`
	Event   struct {
		ID string `json:"id"`
	} `json:"event"`
}

// tapProcess is a running `sluice tap`.
type tapProcess struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

// startTap runs `sluice tap args...` and waits until it watches.
func startTap(t *testing.T, args ...string) *tapProcess {
	t.Helper()
	p := &tapProcess{lines: make(chan string, 1024), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(sluiceBin, append([]string{"tap"}, args...)...)
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	require.Eventually(t, func() bool { return strings.Contains(p.stderr.String(), "tap: watching") }, 20*time.Second, 10*time.Millisecond,
		"tap did not start: %s", p.stderr.String())
	return p
}

// exitCode waits for the tap to end and returns its exit code.
func (p *tapProcess) exitCode(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("tap did not end within %s; stderr: %s", timeout, p.stderr.String())
	}
	if p.err == nil {
		return 0
	}
	var ee *exec.ExitError
	require.ErrorAs(t, p.err, &ee)
	return ee.ExitCode()
}

// read returns the next n event lines.
func (p *tapProcess) read(t *testing.T, n int) []tapEvent {
	t.Helper()
	var out []tapEvent
	deadline := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case line, ok := <-p.lines:
			require.True(t, ok, "tap ended after %d of %d lines; stderr: %s", len(out), n, p.stderr.String())
			var ev tapEvent
			require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
			require.Equal(t, "event", ev.Type, line)
			out = append(out, ev)
		case <-deadline:
			t.Fatalf("tap: %d of %d lines after 30s; stderr: %s", len(out), n, p.stderr.String())
		}
	}
	return out
}

// tapConfig is crashConfig with a second sink, "failing", an http sink to
// nowhere (a closed port) that keeps retrying, fed by route "flaky"; with
// failing false, it has neither.
func tapConfig(t *testing.T, dir, ingest, admin, nowhere string, failing bool) string {
	t.Helper()
	var extraSink, extraRoute string
	if failing {
		extraSink = fmt.Sprintf(`
  - name: failing
    type: http
    with: {url: "http://%s/nowhere"}
    retry: {initial: 50ms, max: 200ms}`, nowhere)
		extraRoute = `
  - name: flaky
    from: [ingest]
    to: [failing]`
	}
	return writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: "%[3]s"}
log: {level: warn}
shutdown_timeout: 5s
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", path: /events}
sinks:
  - name: archive
    type: file
    with: {path: %[1]s/archive.jsonl}%[4]s
routes:
  - name: all
    from: [ingest]
    to: [archive]%[5]s
`, dir, ingest, admin, extraSink, extraRoute))
}

func TestTap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	nowhere := freeAddr(t)
	cfg := tapConfig(t, dir, ingest, admin, nowhere, true)
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(from, n int) {
		for i := from; i < from+n; i++ {
			require.Equal(t, http.StatusAccepted, postEvent(client, "http://"+ingest+"/events", fmt.Sprintf("ev-%d", i)))
		}
	}

	t.Run("unknown names list the defined ones", func(t *testing.T) {
		_, errOut, code := sluice(t, nil, "tap", "-c", cfg, "--sink", "archiv", "--route", "al")
		require.Equal(t, 2, code, errOut)
		assert.Contains(t, errOut, `unknown sink "archiv" (defined: archive, failing)`)
		assert.Contains(t, errOut, `unknown route "al" (defined: all, flaky)`)
		_, errOut, code = sluice(t, nil, "tap", "-c", cfg)
		require.Equal(t, 2, code, errOut)
		assert.Contains(t, errOut, "--sink, --route or --source")
	})

	// The sink sees exactly the events posted, in journal order; the
	// source too; the route sees what it selected for its sink.
	sink := startTap(t, "-c", cfg, "--sink", "archive")
	source := startTap(t, "-c", cfg, "--source", "ingest", "--output", "json")
	route := startTap(t, "-c", cfg, "--route", "all", "--count", "3")
	post(0, 10)
	var prev uint64
	for i, ev := range sink.read(t, 10) {
		assert.Equal(t, fmt.Sprintf("ev-%d", i), ev.Event.ID)
		assert.Equal(t, "sink", ev.Point)
		assert.Equal(t, "archive", ev.Sink)
		assert.Equal(t, "all", ev.Route)
		assert.Equal(t, "ingest", ev.Source)
		assert.Equal(t, "delivered", ev.Outcome)
		assert.Greater(t, ev.Seq, prev, "journal order")
		prev = ev.Seq
	}
	for i, ev := range source.read(t, 10) {
		assert.Equal(t, fmt.Sprintf("ev-%d", i), ev.Event.ID)
		assert.Equal(t, "appended", ev.Outcome)
	}
	for i, ev := range route.read(t, 3) {
		assert.Equal(t, fmt.Sprintf("ev-%d", i), ev.Event.ID)
		assert.Equal(t, "route", ev.Point)
		assert.Equal(t, "archive", ev.Sink)
		assert.Equal(t, "selected", ev.Outcome)
	}
	require.Zero(t, route.exitCode(t, 10*time.Second), "--count ends the tap: %s", route.stderr.String())

	t.Run("top --once shows the failing sink's lag", func(t *testing.T) {
		re := regexp.MustCompile(`(?m)^\S+ sink failing type=http state=running rate=\S+ total=0 lag=(\d+) lag_age=(\S+) retries=(\d+) dead_letters=0$`)
		require.Eventually(t, func() bool {
			out, errOut, code := sluice(t, nil, "top", "-c", cfg, "--once", "--interval", "200ms")
			require.Zero(t, code, errOut)
			m := re.FindStringSubmatch(out)
			if m == nil || !regexp.MustCompile(`(?m)^\S+ sink archive type=file state=running rate=\S+ total=10 lag=0 `).MatchString(out) {
				return false
			}
			lag, _ := strconv.Atoi(m[1])
			retries, _ := strconv.Atoi(m[3])
			return lag == 10 && m[2] != "0s" && retries > 0
		}, 20*time.Second, 200*time.Millisecond)
	})

	// A reload that removes a sink and a route ends their taps with exit 1
	// and a message that names them; the tap on the sink that remains
	// goes on.
	t.Run("a reload that removes the point ends its tap", func(t *testing.T) {
		gone := startTap(t, "-c", cfg, "--sink", "failing")
		goneRoute := startTap(t, "-c", cfg, "--route", "flaky", "--route", "all")
		tapConfig(t, dir, ingest, admin, nowhere, false)
		require.NoError(t, e.cmd.Process.Signal(syscall.SIGHUP))
		require.Equal(t, 1, gone.exitCode(t, 30*time.Second), gone.stderr.String())
		assert.Contains(t, gone.stderr.String(), `tap ended: sink "failing" no longer exists: a configuration reload removed it`)
		require.Equal(t, 1, goneRoute.exitCode(t, 10*time.Second), goneRoute.stderr.String())
		assert.Contains(t, goneRoute.stderr.String(), `tap ended: route "flaky" no longer exists: a configuration reload removed it`)
		assert.NotContains(t, goneRoute.stderr.String(), `route "all"`)
		post(10, 1)
		ev := sink.read(t, 1)[0]
		assert.Equal(t, "ev-10", ev.Event.ID, "the tap on archive goes on")
	})

	// The engine stopping ends the taps with a message and exit 0; then a
	// tap is refused with exit 1.
	require.NoError(t, e.stop(30*time.Second))
	require.Zero(t, sink.exitCode(t, 10*time.Second))
	assert.Contains(t, sink.stderr.String(), "the engine is stopping")
	for _, args := range [][]string{{"tap", "--sink", "archive"}, {"top", "--once"}} {
		_, errOut, code := sluice(t, nil, append(args, "-c", cfg)...)
		require.Equal(t, 1, code, errOut)
		assert.Contains(t, errOut, "no engine is running on journal", args)
	}
}

// TestSlowTapDoesNotSlowDelivery opens a tap on the admin socket and
// never reads it: every event is still delivered, and the engine counts
// the tap lines it drops.
func TestSlowTapDoesNotSlowDelivery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := crashConfig(t, dir, ingest, admin)
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)

	var d net.Dialer
	conn, err := d.DialContext(context.Background(), "unix", filepath.Join(dir, "journal", "admin.sock"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.UnixConn).SetReadBuffer(4096))
	_, err = io.WriteString(conn, "GET /api/v1/tap?sink=archive&source=ingest&buffer=1 HTTP/1.1\r\nHost: sluice\r\n\r\n")
	require.NoError(t, err)
	// Never read: the engine's writes block once the socket is full.

	const batches, per = 10, 200
	client := &http.Client{Timeout: 10 * time.Second}
	for b := range batches {
		var sb strings.Builder
		sb.WriteString("[")
		for i := range per {
			if i > 0 {
				sb.WriteString(",")
			}
			id := fmt.Sprintf("ev-%d-%d", b, i)
			fmt.Fprintf(&sb, `{"specversion":"1.0","id":"%s","source":"/e2e","type":"e2e.test","data":{"id":"%s","pad":"%s"}}`, id, id, strings.Repeat("x", 200))
		}
		sb.WriteString("]")
		resp, err := client.Post("http://"+ingest+"/events", "application/cloudevents-batch+json", strings.NewReader(sb.String()))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
	}
	archive := filepath.Join(dir, "archive.jsonl")
	require.Eventually(t, func() bool { return len(readLines(t, archive)) == batches*per }, 30*time.Second, 50*time.Millisecond,
		"deliveries continue while the tap is not read")
	resp, err := client.Get("http://" + admin + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^sluice_tap_dropped_total(?:\{[^}]*\})? (\d+)`).FindStringSubmatch(string(body))
	require.NotNil(t, m, "tap dropped counter in /metrics")
	dropped, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	assert.Positive(t, dropped)
	assert.Regexp(t, `(?m)^sluice_tap_subscribers(?:\{[^}]*\})? 1$`, string(body))
	_ = os.Remove(archive)
}
