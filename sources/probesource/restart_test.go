package probesource_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// gateServer answers 500 to its first `free` requests, then holds every
// request until release is called (or the request is abandoned); after
// release it answers `after`.
type gateServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	free     int
	after    int
	released chan struct{}
}

func newGateServer(t *testing.T, free, after int) *gateServer {
	t.Helper()
	g := &gateServer{free: free, after: after, released: make(chan struct{})}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.requests++
		n := g.requests
		g.mu.Unlock()
		if n <= g.free {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		select {
		case <-g.released:
			w.WriteHeader(g.after)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gateServer) release() { close(g.released) }

// savedState reads the probe's state as the journal keeps it.
func savedState(t *testing.T, host *pipelinetest.RecordingHost, probe string) map[string]any {
	t.Helper()
	st, err := host.State(t.Context())
	require.NoError(t, err)
	b, ok := st["probe/"+probe]
	if !ok {
		return nil
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// TestRestartInFailureStreak stops the source after two of the three
// failures a transition needs, and checks that after a restart one more
// failure makes the probe unhealthy: the streak was kept in the journal's
// source state, written with the checks that made it.
func TestRestartInFailureStreak(t *testing.T) {
	t.Parallel()
	srv := newGateServer(t, 2, http.StatusInternalServerError)
	cfg := fmt.Sprintf(`{kind: http, url: %s, interval: 10ms, failure_threshold: 3}`, srv.URL)
	host := pipelinetest.NewRecordingHost("web")

	first := start(t, newSource(t, cfg), host)
	require.Eventually(t, func() bool {
		st := savedState(t, host, "probe")
		return st != nil && st["failures"] == 2.0
	}, waitTimeout, time.Millisecond, "two failures recorded")
	first.stop() // the third check is held by the server and abandoned
	assert.Empty(t, eventsOf(host, probesource.TypeState), "two failures of three make no transition")
	failingSince := savedState(t, host, "probe")["failing_since"]
	require.NotEmpty(t, failingSince)

	srv.release()
	start(t, newSource(t, cfg), host)
	evs := waitFor(t, host, probesource.TypeState, 1)
	d := dataOf(t, evs[0])
	assert.Equal(t, "unknown>unhealthy", d.From+">"+d.To)
	assert.Equal(t, 3, d.ConsecutiveFailures, "the streak went on across the restart")
	assert.Equal(t, failingSince, d.FailingSince.Format(time.RFC3339Nano), "the streak began before the restart")
}

// TestRestartNoFalseTransition checks that a restart re-emits no
// transition: a healthy probe stays healthy silently, and an unhealthy
// probe that is still failing stays unhealthy silently.
func TestRestartNoFalseTransition(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusOK, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t, status)
			cfg := fmt.Sprintf(`{kind: http, url: %s, interval: 10ms, failure_threshold: 2}`, srv.URL)
			host := pipelinetest.NewRecordingHost("web")
			r := start(t, newSource(t, cfg), host)
			waitFor(t, host, probesource.TypeState, 1)
			r.stop()
			writes := len(host.Batches())

			seen := srv.count()
			start(t, newSource(t, cfg), host)
			require.Eventually(t, func() bool { return srv.count() >= seen+10 }, waitTimeout, time.Millisecond)
			assert.Len(t, eventsOf(host, probesource.TypeState), 1, "no transition after the restart")
			assert.Len(t, host.Batches(), writes, "a steady probe writes nothing")
		})
	}
}

// TestStaleStateDeleted checks that the state of a probe that is no
// longer configured is deleted at start.
func TestStaleStateDeleted(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, 200)
	host := pipelinetest.NewRecordingHost("fleet")
	two := fmt.Sprintf(`{interval: 10ms, kind: http, probes: [{name: a, url: %[1]s}, {name: b, url: %[1]s}]}`, srv.URL)
	r := start(t, newSource(t, two), host)
	waitFor(t, host, probesource.TypeState, 2)
	r.stop()
	require.NotNil(t, savedState(t, host, "b"))

	one := fmt.Sprintf(`{interval: 10ms, kind: http, probes: [{name: a, url: %s}]}`, srv.URL)
	r = start(t, newSource(t, one), host)
	require.Eventually(t, func() bool { return savedState(t, host, "b") == nil }, waitTimeout, time.Millisecond)
	r.stop()
	assert.NotNil(t, savedState(t, host, "a"))
}

// TestCorruptStateIgnored checks that state this version cannot read
// makes the probe start unknown instead of failing the source.
func TestCorruptStateIgnored(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, 200)
	host := pipelinetest.NewRecordingHost("web")
	_, err := host.Emit(t.Context(), nil, pipeline.StateUpdate{Key: "probe/probe", Value: []byte(`{"v":99}`)})
	require.NoError(t, err)
	start(t, newSource(t, fmt.Sprintf(`{kind: http, url: %s, interval: 10ms}`, srv.URL)), host)
	evs := waitFor(t, host, probesource.TypeState, 1)
	assert.Equal(t, "unknown", dataOf(t, evs[0]).From)
}

// TestJournalRefusal checks that a transition the journal refuses is not
// lost: the probe keeps its old state and records the transition with a
// later check, once the journal accepts again.
func TestJournalRefusal(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, 500)
	host := pipelinetest.NewRecordingHost("web")
	host.SetError(pipeline.ErrJournalFull)
	start(t, newSource(t, fmt.Sprintf(`{kind: http, url: %s, interval: 10ms, failure_threshold: 1}`, srv.URL)), host)
	require.Eventually(t, func() bool { return host.Calls() >= 3 }, waitTimeout, time.Millisecond)
	host.SetError(nil)
	evs := waitFor(t, host, probesource.TypeState, 1)
	assert.Equal(t, "unknown>unhealthy", transitions(t, evs)[0])
}
