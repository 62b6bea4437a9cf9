package vmfaultsource

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sluice-dev/sluice/internal/fakenova"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(benchNovaEnv) != "" {
		runBenchNova()
		return
	}
	goleak.VerifyTestMain(m)
}

const (
	idA = "0e44cc9c-e052-415d-afbf-469b0d384170"
	idB = "7f3c2b3e-5a1d-4c4e-9a36-2b1f0f6a0001"
	idC = "7f3c2b3e-5a1d-4c4e-9a36-2b1f0f6a0002"
)

// newFake starts a Keystone+Nova fake closed with the test.
func newFake(t *testing.T) *fakenova.Fake {
	t.Helper()
	f := fakenova.New()
	t.Cleanup(f.Close)
	return f
}

// osConfig is an openstack config for f with fast intervals.
func osConfig(f *fakenova.Fake, watch ...WatchEntry) *Config {
	c := defaultConfig()
	c.Provider = ProviderOpenStack
	c.Auth = AuthConfig{URL: f.URL, Username: f.Username, UserDomain: f.UserDomain, Password: pipeline.Secret(f.Password),
		Project: f.ProjectName, ProjectDomain: f.UserDomain, Region: "RegionOne"}
	c.Watch = watch
	c.Interval = 20 * time.Millisecond
	c.Timeout = 2 * time.Second
	c.Retry = pipeline.RetryConfig{Initial: 5 * time.Millisecond, Max: 40 * time.Millisecond, Multiplier: 2, Jitter: 0.1}
	return c
}

// running is a source running on a host until stop.
type running struct {
	host *pipelinetest.RecordingHost
	stop func()
}

// run validates cfg, builds the source and runs it on host until the
// returned stop (also called at cleanup).
func run(t *testing.T, cfg *Config, host *pipelinetest.RecordingHost, set pipeline.Settings) running {
	t.Helper()
	src, err := NewFactory().NewSource(t.Context(), set, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, host) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("source did not stop")
		}
	}
	t.Cleanup(stop)
	return running{host: host, stop: stop}
}

func start(t *testing.T, cfg *Config) running {
	t.Helper()
	return run(t, cfg, pipelinetest.NewRecordingHost("vmf"), pipeline.NopSettings("vmf"))
}

// waitCount waits until route has had n more requests than from.
func waitCount(t *testing.T, f *fakenova.Fake, route string, n int) {
	t.Helper()
	from := f.Count(route)
	require.Eventually(t, func() bool { return f.Count(route) >= from+n }, 5*time.Second, time.Millisecond,
		"waiting for %d %s requests", n, route)
}

// events waits for n events and returns them decoded.
func events(t *testing.T, h *pipelinetest.RecordingHost, n int) []decoded {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	evs, err := h.WaitForEvents(ctx, n)
	require.NoError(t, err)
	out := make([]decoded, len(evs))
	for i, e := range evs {
		out[i].Event = e
		require.NoError(t, json.Unmarshal(e.Data, &out[i].data), "event data")
	}
	return out
}

type decoded struct {
	pipeline.Event
	data faultData
}

// exactly asserts the host holds exactly n events (after polls more).
func exactly(t *testing.T, h *pipelinetest.RecordingHost, n int) []decoded {
	t.Helper()
	evs := events(t, h, n)
	require.Len(t, evs, n, "events: %v", types(evs))
	return evs
}

func types(evs []decoded) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type + ":" + e.data.ServerID + ":" + e.data.Reason
	}
	return out
}

func errorServer(id, name string) fakenova.Server {
	return fakenova.Server{ID: id, Name: name, Status: "ERROR", VMState: "error",
		Fault: &fakenova.Fault{Code: 500, Message: "No valid host was found. There are not enough hosts available.", Created: time.Date(2013, 9, 3, 4, 1, 33, 0, time.UTC)}}
}

func activeServer(id, name string) fakenova.Server {
	return fakenova.Server{ID: id, Name: name, Status: "ACTIVE", VMState: "active", PowerState: 1}
}
