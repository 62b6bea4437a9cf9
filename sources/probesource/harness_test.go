package probesource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) != "" {
		runBenchServer()
		return
	}
	goleak.VerifyTestMain(m)
}

// waitTimeout bounds every wait of the tests: generous, since the machine
// is shared and the race detector is slow.
const waitTimeout = 20 * time.Second

// decode decodes YAML strictly over the factory's defaults, as the config
// package does, and validates it.
func decode(t *testing.T, text string) (*probesource.Config, error) {
	t.Helper()
	cfg, ok := probesource.NewFactory().DefaultConfig().(*probesource.Config)
	require.True(t, ok)
	if err := yamlDecode(text, cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// yamlDecode decodes strictly: unknown keys are errors.
func yamlDecode(text string, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// newSource builds a source named "probe" from YAML.
func newSource(t *testing.T, text string) pipeline.Source {
	t.Helper()
	cfg, err := decode(t, text)
	require.NoError(t, err)
	src, err := probesource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("probe"), cfg)
	require.NoError(t, err)
	return src
}

// running is a source running on a RecordingHost.
type running struct {
	t      *testing.T
	host   *pipelinetest.RecordingHost
	cancel context.CancelFunc
	done   chan error
}

// start runs src on host until stop (or the end of the test).
func start(t *testing.T, src pipeline.Source, host *pipelinetest.RecordingHost) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, host: host, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, host) }()
	t.Cleanup(r.stop)
	return r
}

// stop cancels the run and waits for Run to return nil.
func (r *running) stop() {
	r.t.Helper()
	if r.done == nil {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		require.NoError(r.t, err)
	case <-time.After(waitTimeout):
		r.t.Fatal("Run did not return after cancel")
	}
	r.done = nil
}

// eventsOf returns the recorded events of type typ.
func eventsOf(host *pipelinetest.RecordingHost, typ string) []pipeline.Event {
	var out []pipeline.Event
	for _, e := range host.Events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// waitFor waits until host has recorded n events of type typ.
func waitFor(t *testing.T, host *pipelinetest.RecordingHost, typ string, n int) []pipeline.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for {
		evs := eventsOf(host, typ)
		if len(evs) >= n {
			return evs
		}
		if _, err := host.WaitForEvents(ctx, len(host.Events())+1); err != nil {
			t.Fatalf("waiting for %d %s events, have %d: %v\nall: %s", n, typ, len(evs), err, describe(host.Events()))
		}
	}
}

func describe(evs []pipeline.Event) string {
	var b bytes.Buffer
	for _, e := range evs {
		b.WriteString(e.Type + " " + string(e.Data) + "\n")
	}
	return b.String()
}

// probeData is the data of state, heartbeat and result events.
type probeData struct {
	Probe                string    `json:"probe"`
	Kind                 string    `json:"kind"`
	Target               string    `json:"target"`
	From                 string    `json:"from"`
	To                   string    `json:"to"`
	State                string    `json:"state"`
	Since                time.Time `json:"since"`
	Healthy              bool      `json:"healthy"`
	Error                string    `json:"error"`
	ConsecutiveFailures  int       `json:"consecutive_failures"`
	ConsecutiveSuccesses int       `json:"consecutive_successes"`
	FailureThreshold     int       `json:"failure_threshold"`
	SuccessThreshold     int       `json:"success_threshold"`
	FailingSince         time.Time `json:"failing_since"`
	LastError            string    `json:"last_error"`
	LastErrorAt          time.Time `json:"last_error_at"`
	LatencyMS            float64   `json:"latency_ms"`
	CheckedAt            time.Time `json:"checked_at"`
	StatusCode           int       `json:"status_code"`
	UpstreamFailure      bool      `json:"upstream_failure"`
	ExitCode             *int      `json:"exit_code"`
	Output               string    `json:"output"`
	OutputTruncated      bool      `json:"output_truncated"`
	Interval             string    `json:"interval"`
}

func dataOf(t *testing.T, e pipeline.Event) probeData {
	t.Helper()
	var d probeData
	dec := json.NewDecoder(bytes.NewReader(e.Data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&d), "%s", e.Data)
	return d
}

// transitions lists the "from>to" of state events.
func transitions(t *testing.T, evs []pipeline.Event) []string {
	t.Helper()
	out := make([]string, len(evs))
	for i, e := range evs {
		d := dataOf(t, e)
		out[i] = d.From + ">" + d.To
	}
	return out
}

// scriptServer answers with a scripted status per request; after the
// script it repeats the last status. It counts requests.
type scriptServer struct {
	*httptest.Server
	mu       sync.Mutex
	script   []int
	requests int
}

func newScriptServer(t *testing.T, script ...int) *scriptServer {
	t.Helper()
	s := &scriptServer{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		i := min(s.requests, len(s.script)-1)
		s.requests++
		code := s.script[i]
		s.mu.Unlock()
		w.WriteHeader(code)
		_, _ = w.Write([]byte("status " + http.StatusText(code)))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
