package probesource_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// TestFlappingHTTPServer checks the threshold semantics against a real
// server whose answers flap: two successes to become healthy, two
// failures to become unhealthy, and a streak broken by one opposite
// result starts again.
func TestFlappingHTTPServer(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, 200, 200, 500, 500, 500, 200, 500, 200, 200)
	src := newSource(t, fmt.Sprintf(`{kind: http, url: %s/healthz, interval: 10ms, failure_threshold: 2, success_threshold: 2}`, srv.URL))
	host := pipelinetest.NewRecordingHost("web")
	start(t, src, host)
	waitFor(t, host, probesource.TypeState, 3)
	require.Eventually(t, func() bool { return srv.count() >= 12 }, waitTimeout, time.Millisecond)
	evs := eventsOf(host, probesource.TypeState)
	require.Equal(t, []string{"unknown>healthy", "healthy>unhealthy", "unhealthy>healthy"}, transitions(t, evs), "no transition beyond the script's")

	down := dataOf(t, evs[1])
	assert.Equal(t, "probe", down.Probe, "a single probe is named after its source")
	assert.Equal(t, "http", down.Kind)
	assert.Equal(t, srv.URL+"/healthz", down.Target)
	assert.Equal(t, "unhealthy", down.State)
	assert.False(t, down.Healthy)
	assert.Equal(t, 2, down.ConsecutiveFailures)
	assert.Equal(t, 2, down.FailureThreshold)
	assert.Equal(t, "status 500 (want 200-399)", down.Error)
	assert.Equal(t, 500, down.StatusCode)
	assert.Equal(t, "10ms", down.Interval)
	assert.Equal(t, pipeline.SeverityError, evs[1].Severity)
	assert.Equal(t, "probe", evs[1].Subject)
	assert.Equal(t, "application/json", evs[1].DataContentType)
	assert.False(t, down.FailingSince.After(down.CheckedAt))
	assert.Positive(t, down.LatencyMS)

	up := dataOf(t, evs[2])
	assert.Equal(t, 2, up.ConsecutiveSuccesses)
	assert.Equal(t, "status 500 (want 200-399)", up.LastError, "the last error outlives the recovery")
	assert.Empty(t, up.Error)
	assert.Equal(t, pipeline.SeverityInfo, evs[2].Severity)
	assert.True(t, up.FailingSince.IsZero())
}

// firstState runs the probe described by cfg until its first state event
// and returns the event's data.
func firstState(t *testing.T, cfg string) probeData {
	t.Helper()
	host := pipelinetest.NewRecordingHost("probe")
	r := start(t, newSource(t, cfg), host)
	evs := waitFor(t, host, probesource.TypeState, 1)
	r.stop()
	return dataOf(t, evs[0])
}

// TestHTTPChecks checks what each kind of answer (or non-answer) of a
// real loopback server makes of an http probe.
func TestHTTPChecks(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"UP"}`) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"DOWN"}`)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(waitTimeout):
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/down", http.StatusFound) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, _ *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 256 { // 16 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" || r.Method != http.MethodPost || r.Host != "health.example" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	garbage := rawServer(t, "this is not HTTP\r\n\r\n")
	reset := resetServer(t)

	tests := []struct {
		name    string
		cfg     string
		healthy bool
		err     string
		status  int
	}{
		{name: "ok", cfg: `url: %s/ok`, healthy: true, status: 200},
		{name: "status", cfg: `url: %s/down`, err: "status 503 (want 200-399)", status: 503},
		{name: "expected status", cfg: `{url: "%s/down", expect_status: [200, 5xx]}`, healthy: true, status: 503},
		{name: "not found", cfg: `url: %s/nope`, err: "status 404 (want 200-399)", status: 404},
		{name: "body substring", cfg: `{url: "%s/ok", expect_body: '"UP"'}`, healthy: true, status: 200},
		{name: "body substring missing", cfg: `{url: "%s/down", expect_status: [503], expect_body: '"UP"'}`, err: `body does not contain "\"UP\""`, status: 503},
		{name: "body regex", cfg: `{url: "%s/ok", expect_body_regex: 'status"\s*:\s*"UP'}`, healthy: true, status: 200},
		{name: "body regex mismatch", cfg: `{url: "%s/ok", expect_body_regex: '^DOWN'}`, err: `body does not match "^DOWN"`, status: 200},
		{name: "redirect not followed", cfg: `url: %s/redirect`, healthy: true, status: 302},
		{name: "redirect followed", cfg: `{url: "%s/redirect", follow_redirects: same_host}`, err: "status 503 (want 200-399)", status: 503},
		{name: "redirect any", cfg: `{url: "%s/redirect", follow_redirects: any}`, err: "status 503 (want 200-399)", status: 503},
		{name: "slower than the timeout", cfg: `{url: "%s/slow", timeout: 50ms}`, err: "timed out after 50ms"},
		{name: "huge body is not read whole", cfg: `{url: "%s/huge", expect_body: "y", max_response_bytes: 1KiB}`, err: `body does not contain "y"`, status: 200},
		{name: "huge body without match", cfg: `url: %s/huge`, healthy: true, status: 200},
		{name: "headers, method, body, host", cfg: `{url: "%s/auth", method: POST, body: ping, expect_body: ping, headers: {Authorization: Bearer s3cret, Host: health.example}}`, healthy: true, status: 200},
		{name: "garbage", cfg: `url: http://` + garbage + `/`, err: "malformed HTTP"},
		{name: "reset", cfg: `url: http://` + reset + `/`, err: "connection reset by peer"},
		{name: "closed port", cfg: `url: http://` + closedAddr(t) + `/`, err: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			if strings.Contains(cfg, "%s") {
				cfg = fmt.Sprintf(cfg, srv.URL)
			}
			if !strings.HasPrefix(cfg, "{") {
				cfg = "{" + cfg + "}"
			}
			cfg = strings.Replace(cfg, "{", "{kind: http, interval: 50ms, failure_threshold: 1, ", 1)
			d := firstState(t, cfg)
			assert.Equal(t, tt.healthy, d.Healthy)
			assert.Equal(t, tt.status, d.StatusCode)
			if tt.healthy {
				assert.Equal(t, "unknown>healthy", d.From+">"+d.To)
				assert.Empty(t, d.Error)
				return
			}
			assert.Equal(t, "unknown>unhealthy", d.From+">"+d.To)
			assert.Contains(t, d.Error, tt.err)
			assert.NotContains(t, d.Error, srv.URL, "errors do not repeat the URL")
		})
	}
}

// rawServer answers the first bytes of every connection with reply and
// closes it.
func rawServer(t *testing.T, reply string) string {
	t.Helper()
	return tcpServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = io.WriteString(c, reply)
	})
}

// resetServer resets every connection (SO_LINGER 0).
func resetServer(t *testing.T) string {
	t.Helper()
	return tcpServer(t, func(c net.Conn) {
		buf := make([]byte, 1)
		_, _ = c.Read(buf)
		_ = c.(*net.TCPConn).SetLinger(0)
	})
}

// tcpServer runs handle for every connection, then closes it; it stops
// with the test.
func tcpServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(waitTimeout))
				handle(c)
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// TestHTTPSecretsNotLogged checks that header values and URL passwords
// appear in no event and no log line.
func TestHTTPSecretsNotLogged(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, 500)
	var logs bytes.Buffer
	set := pipeline.NopSettings("probe")
	set.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	u := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1)
	cfg, err := decode(t, `{kind: http, url: "`+u+`", interval: 10ms, failure_threshold: 1, headers: {Authorization: Bearer t0psecret}}`)
	require.NoError(t, err)
	src, err := probesource.NewFactory().NewSource(t.Context(), set, cfg)
	require.NoError(t, err)
	host := pipelinetest.NewRecordingHost("probe")
	r := start(t, src, host)
	evs := waitFor(t, host, probesource.TypeState, 1)
	r.stop()
	for _, s := range []string{describe(evs), logs.String()} {
		assert.NotContains(t, s, "hunter2")
		assert.NotContains(t, s, "t0psecret")
	}
	assert.Contains(t, dataOf(t, evs[0]).Target, "user:xxxxx@")
	assert.Contains(t, logs.String(), "probe state changed")
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestResultsAndHeartbeats checks per-check results (on request), the
// heartbeat cadence (on the probe's grid, not every check) and the
// severity of unhealthy events. A loaded machine misses slots (the probe
// skips them rather than bunching checks), so the cadence is checked
// against the time the checks took, not against their number.
func TestResultsAndHeartbeats(t *testing.T) {
	t.Parallel()
	const interval, heartbeat = 20 * time.Millisecond, 100 * time.Millisecond
	srv := newScriptServer(t, 500)
	host := pipelinetest.NewRecordingHost("web")
	r := start(t, newSource(t, fmt.Sprintf(`{kind: http, url: %s, interval: %s, heartbeat: %s, results: true, failure_threshold: 2, severity: critical}`,
		srv.URL, interval, heartbeat)), host)
	waitFor(t, host, probesource.TypeHeartbeat, 3)
	waitFor(t, host, probesource.TypeResult, 9)
	r.stop()
	results := eventsOf(host, probesource.TypeResult)
	beats := eventsOf(host, probesource.TypeHeartbeat)
	elapsed := dataOf(t, results[len(results)-1]).CheckedAt.Sub(dataOf(t, results[0]).CheckedAt)
	assert.LessOrEqual(t, len(beats), int(elapsed/heartbeat)+2, "a heartbeat at most every %s of checks (%s of them, %d results)", heartbeat, elapsed, len(results))
	assert.Less(t, len(beats), len(results), "not every check carries a heartbeat")
	first := dataOf(t, results[0])
	assert.Equal(t, "unknown", first.State)
	assert.Equal(t, 1, first.ConsecutiveFailures)
	assert.Equal(t, pipeline.SeverityCritical, results[0].Severity)
	assert.Equal(t, pipeline.SeverityInfo, beats[0].Severity, "the first heartbeat came while the state was unknown")
	last := dataOf(t, beats[len(beats)-1])
	assert.Equal(t, "unhealthy", last.State)
	assert.Equal(t, pipeline.SeverityCritical, beats[len(beats)-1].Severity)
	assert.False(t, last.FailingSince.IsZero())
	for _, b := range host.Batches() {
		types := map[string]int{}
		for _, e := range b {
			types[e.Type]++
		}
		assert.LessOrEqual(t, types[probesource.TypeResult], 1, "one check per batch: its events go together")
	}
}
