package hostpluginsink_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

// captured is one request a captureServer received.
type captured struct {
	Method, RequestURI, Host, Proto string
	Header                          http.Header
	Body                            []byte
}

// answer is what a captureServer replies.
type answer struct {
	status int
	body   string
	// delay holds the answer back (for timeouts).
	delay time.Duration
}

// captureServer is a real HTTP server on loopback that records every
// request and answers from a script (200 by default).
type captureServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []captured
	answer   func(n int) answer
}

func newCaptureServer(t *testing.T) *captureServer {
	t.Helper()
	c := &captureServer{}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

func (c *captureServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	n := len(c.requests)
	c.requests = append(c.requests, captured{
		Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Proto: r.Proto,
		Header: r.Header.Clone(), Body: body,
	})
	script := c.answer
	c.mu.Unlock()
	a := answer{status: http.StatusOK}
	if script != nil {
		a = script(n)
	}
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

// setAnswer replaces the answer script.
func (c *captureServer) setAnswer(fn func(n int) answer) {
	c.mu.Lock()
	c.answer = fn
	c.mu.Unlock()
}

// got returns the requests received so far.
func (c *captureServer) got() []captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]captured(nil), c.requests...)
}

// report is a decoded HealthService body.
type report struct {
	API          string `json:"Api"`
	Version      string `json:"Version"`
	Source       string `json:"Source"`
	Observations []struct {
		ObservationName string
		IsHealthy       bool
		Description     string
		Value           string
	} `json:"Observations"`
}

// reports decodes the captured bodies.
func (c *captureServer) reports(t *testing.T) []report {
	t.Helper()
	var out []report
	for _, r := range c.got() {
		var rep report
		require.NoError(t, json.Unmarshal(r.Body, &rep), "body %q", r.Body)
		out = append(out, rep)
	}
	return out
}

// newSink builds and starts a sink for cfg on a server's address.
func newSink(t testing.TB, cfg *hostpluginsink.Config, set pipeline.Settings) pipeline.Sink {
	t.Helper()
	require.NoError(t, cfg.Validate())
	s, err := hostpluginsink.NewFactory().NewSink(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// testConfig returns the defaults with endpoint set to a server's host:port.
func testConfig(t testing.TB, endpoint string) *hostpluginsink.Config {
	t.Helper()
	cfg, ok := hostpluginsink.NewFactory().DefaultConfig().(*hostpluginsink.Config)
	require.True(t, ok)
	cfg.Endpoint = endpoint
	return cfg
}

// hostPort returns a test server's host:port.
func hostPort(s *httptest.Server) string { return s.Listener.Addr().String() }

// fakeClock is a pipeline.Clock that moves only when told to.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

func newFakeClock(start time.Time) *fakeClock { return &fakeClock{now: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock and fires the timers that came due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, tm := range c.timers {
		if !tm.at.After(now) {
			due = append(due, tm)
		} else {
			keep = append(keep, tm)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, tm := range due {
		select {
		case tm.c <- now:
		default:
		}
	}
}

func (c *fakeClock) NewTimer(d time.Duration) pipeline.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{clock: c, c: make(chan time.Time, 1), at: c.now.Add(d)}
	c.timers = append(c.timers, tm)
	return tm
}

type fakeTimer struct {
	clock *fakeClock
	c     chan time.Time
	at    time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	for i, x := range t.clock.timers {
		if x == t {
			t.clock.timers = append(t.clock.timers[:i], t.clock.timers[i+1:]...)
			return true
		}
	}
	return false
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	active := t.Stop()
	t.clock.mu.Lock()
	t.at = t.clock.now.Add(d)
	t.clock.timers = append(t.clock.timers, t)
	t.clock.mu.Unlock()
	return active
}

var _ pipeline.Clock = (*fakeClock)(nil)
