package heartbeatsource_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/heartbeatsource"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newSource(t *testing.T, interval time.Duration) pipeline.Source {
	t.Helper()
	f := heartbeatsource.NewFactory()
	cfg := f.DefaultConfig().(*heartbeatsource.Config)
	cfg.Interval = interval
	src, err := f.NewSource(t.Context(), pipeline.NopSettings("hb"), cfg)
	require.NoError(t, err)
	return src
}

func TestFactory(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSourceFactory(t, heartbeatsource.NewFactory())
}

func TestSourceSuite(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSource(t, func(t *testing.T) pipeline.Source { return newSource(t, time.Hour) })
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cfg := &heartbeatsource.Config{Interval: time.Millisecond}
	err := cfg.Validate()
	var fe *pipeline.FieldError
	require.ErrorAs(t, err, &fe)
	require.ErrorContains(t, err, "interval: must be at least 10ms")
	require.ErrorContains(t, err, "type: must not be empty")
}

// TestHeartbeatsCountAcrossRestarts checks the periodic events and that
// the counter resumes from the state stored with the last heartbeat.
func TestHeartbeatsCountAcrossRestarts(t *testing.T) {
	t.Parallel()
	host := pipelinetest.NewRecordingHost("hb")
	run := func(n int) []pipeline.Event {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		src := newSource(t, 10*time.Millisecond)
		go func() { done <- src.Run(ctx, host) }()
		evs, err := host.WaitForEvents(t.Context(), n)
		cancel()
		require.NoError(t, err)
		require.NoError(t, <-done)
		return evs
	}
	first := run(3)
	counters := func(evs []pipeline.Event) []uint64 {
		var out []uint64
		for _, e := range evs {
			var p struct {
				Counter uint64 `json:"counter"`
				Host    string `json:"host"`
			}
			require.NoError(t, json.Unmarshal(e.Data, &p))
			require.NotEmpty(t, p.Host)
			require.Equal(t, "sluice.heartbeat", e.Type)
			require.Equal(t, "application/json", e.DataContentType)
			out = append(out, p.Counter)
		}
		return out
	}
	require.Equal(t, []uint64{1, 2, 3}, counters(first)[:3])
	all := run(len(host.Events()) + 2)
	got := counters(all)
	for i := 1; i < len(got); i++ {
		require.Equal(t, got[i-1]+1, got[i], "the counter continues after a restart: %v", got)
	}
}

// TestFullJournalSkipsBeat checks that a refused emit is not counted and
// the source keeps running.
func TestFullJournalSkipsBeat(t *testing.T) {
	t.Parallel()
	host := pipelinetest.NewRecordingHost("hb")
	host.SetError(pipeline.ErrJournalFull)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	src := newSource(t, 10*time.Millisecond)
	go func() { done <- src.Run(ctx, host) }()
	require.Eventually(t, func() bool { return host.Calls() >= 2 }, 5*time.Second, time.Millisecond)
	host.SetError(nil)
	evs, err := host.WaitForEvents(t.Context(), 1)
	cancel()
	require.NoError(t, err)
	require.NoError(t, <-done)
	require.Contains(t, string(evs[0].Data), `"counter":1,`, "refused heartbeats do not advance the counter")
}
