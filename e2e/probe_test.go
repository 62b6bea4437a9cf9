package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProbeValidate checks that probe config errors are reported at
// their FILE:LINE:COL by `sluice validate`.
func TestProbeValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", `journal:
  dir: ./j
sources:
  - name: web
    type: probe
    with: {kind: http, url: "http:///healthz", interval: 10x, timeout: -1s}
  - name: fleet
    type: probe
    with:
      probes:
        - {name: check, kind: exec, command: []}
sinks:
  - name: out
    type: stdout
routes:
  - name: r
    from: [web, fleet]
    to: [out]
`)
	_, errOut, code := sluice(t, nil, "validate", "-c", bad)
	require.Equal(t, 3, code, errOut)
	for _, want := range []string{
		bad + ":6:29: sources[0].with.url: the URL has no host",
		bad + `:6:58: sources[0].with.interval: invalid interval "10x"`,
		bad + `:6:72: sources[0].with.timeout: invalid interval "-1s": must not be negative`,
		bad + ":11:46: sources[1].with.probes[0].command: must not be empty",
	} {
		assert.Contains(t, errOut, want)
	}
}

// probeTarget is an HTTP server whose answers the test sets. With hold,
// requests wait until the test releases them or gives up.
type probeTarget struct {
	mu       sync.Mutex
	status   int
	hold     bool
	requests int
	release  chan struct{}
}

func (p *probeTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests++
	status, hold, release := p.status, p.hold, p.release
	p.mu.Unlock()
	if hold {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
}

func (p *probeTarget) set(status int, hold bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.hold = status, hold
}

func (p *probeTarget) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// TestProbeCrashMidFailureStreak runs an http probe in the real engine,
// with the real journal and a file sink, kills the engine with SIGKILL in
// the middle of a failure streak (two failures of the three a transition
// needs) and restarts it: one more failure must make the transition, and
// the restart must not repeat the earlier one.
func TestProbeCrashMidFailureStreak(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	admin := freeAddr(t)
	target := &probeTarget{status: http.StatusOK, release: make(chan struct{})}
	srv := httptest.NewServer(target)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(target.release) })
	archive := filepath.Join(dir, "probe.jsonl")
	cfg := writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: %[2]s}
log: {level: warn}
sources:
  - name: web
    type: probe
    with: {kind: http, url: "%[3]s/healthz", interval: 100ms, timeout: 5s, failure_threshold: 3}
sinks:
  - name: archive
    type: file
    with: {path: %[4]s}
routes:
  - name: all
    from: [web]
    to: [archive]
`, dir, admin, srv.URL, archive))

	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	waitStates(t, archive, 1)

	// Two failures, then hold the third check: it starts only after the
	// second one's state is durable, since a probe checks one at a time.
	target.set(http.StatusInternalServerError, false)
	n := target.count()
	require.Eventually(t, func() bool { return target.count() >= n+2 }, 30*time.Second, 5*time.Millisecond)
	target.set(http.StatusInternalServerError, true)
	require.Eventually(t, func() bool { return target.count() >= n+3 }, 30*time.Second, 5*time.Millisecond)
	e.kill()
	require.Len(t, states(t, archive), 1, "two failures of three make no transition")

	target.set(http.StatusInternalServerError, false)
	e = startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	got := waitStates(t, archive, 2)
	require.NoError(t, e.stop(30*time.Second))
	assert.Equal(t, "unknown>healthy", got[0].From+">"+got[0].To)
	assert.Equal(t, "healthy>unhealthy", got[1].From+">"+got[1].To, "no repeated transition after the restart")
	assert.Equal(t, 3, got[1].ConsecutiveFailures, "the failures before the crash counted")
	assert.Len(t, states(t, archive), 2)
}

type stateData struct {
	From                string `json:"from"`
	To                  string `json:"to"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
}

// states returns the data of the sluice.probe.state events in the file.
func states(t *testing.T, path string) []stateData {
	t.Helper()
	var out []stateData
	for _, line := range readLines(t, path) {
		var ev struct {
			Type string    `json:"type"`
			Data stateData `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
		if ev.Type == "sluice.probe.state" {
			out = append(out, ev.Data)
		}
	}
	return out
}

func waitStates(t *testing.T, path string, n int) []stateData {
	t.Helper()
	var got []stateData
	require.Eventually(t, func() bool {
		got = states(t, path)
		return len(got) >= n
	}, 30*time.Second, 20*time.Millisecond, "waiting for %d state events in %s", n, path)
	return got
}
