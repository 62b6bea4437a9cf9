package vessink_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// lifecycle is a journal range with every domain and a fault raised,
// re-raised and cleared.
func lifecycle() []pipeline.Delivery {
	return []pipeline.Delivery{
		delivery(1, "sluice.heartbeat", "vm17", t0, pipeline.SeverityInfo, heartbeatData(1, "1m0s")),
		delivery(2, "sluice.vm.fault", "vm1", t0.Add(time.Second), pipeline.SeverityCritical, map[string]any{"alarm_condition": "VmStatusError"}),
		delivery(3, "sluice.probe.state", "web", t0.Add(2*time.Second), pipeline.SeverityWarning, map[string]any{"from": "healthy", "to": "unhealthy"}),
		delivery(4, "sluice.vm.fault", "vm1", t0.Add(30*time.Second), pipeline.SeverityError, nil),
		delivery(5, "sluice.lb.request", "lb", t0.Add(40*time.Second), pipeline.SeverityInfo, map[string]any{"action": "UPDATE"}),
		delivery(6, "sluice.vm.fault.cleared", "vm1", t0.Add(time.Minute), pipeline.SeverityInfo, nil),
		delivery(7, "sluice.heartbeat", "vm17", t0.Add(time.Minute), pipeline.SeverityInfo, heartbeatData(2, "1m0s")),
	}
}

func bodies(reqs []*captured) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = string(r.Body)
	}
	return out
}

// TestReplayIdentical: delivering the same deliveries twice (a retry, a
// replay) sends byte-identical bodies, so the collector sees the same
// eventIds; so does a restarted sink that keeps its alarm state.
func TestReplayIdentical(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	for _, mode := range []string{vessink.FaultEventIDEvent, vessink.FaultEventIDAlarm} {
		for _, version := range []int{7, 5} {
			t.Run(mode+"/v"+itoa(uint64(version)), func(t *testing.T) {
				t.Parallel()
				c := newCollector(t, pki)
				cfg := testConfig(c, pki)
				cfg.Version = version
				cfg.URL = c.URL() + "/eventListener/v" + itoa(uint64(version))
				cfg.FaultEventID = mode
				set := pipeline.NopSettings("ves")
				state := pipeline.NewMemoryState(nil)
				set.State = state
				s := startSink(t, set, cfg)
				require.NoError(t, s.Deliver(t.Context(), lifecycle()))
				first := bodies(c.Requests())
				require.NotEmpty(t, first)

				require.NoError(t, s.Deliver(t.Context(), lifecycle()))
				assert.Equal(t, first, bodies(c.Requests()[len(first):]), "same sink, same deliveries")

				// One event at a time, as a replay with small batches.
				n := len(c.Requests())
				for _, d := range lifecycle() {
					require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d}))
				}
				var events []string
				for _, r := range c.Requests()[n:] {
					for _, e := range r.Events {
						events = append(events, string(e))
					}
				}
				var want []string
				for _, b := range first {
					for _, e := range eventsOf(t, []byte(b)) {
						want = append(want, string(e))
					}
				}
				assert.Equal(t, want, events, "same events whatever the batching")

				// A restarted sink with the state its runner committed.
				set.State = pipeline.NewMemoryState(state.All())
				restarted := startSink(t, set, cfg)
				n = len(c.Requests())
				require.NoError(t, restarted.Deliver(t.Context(), lifecycle()))
				assert.Equal(t, first, bodies(c.Requests()[n:]), "after a restart")
				c.requireConforming(t)
			})
		}
	}
}

// TestRetryAfterTransientFailure: a 503 fails only the events of its
// request (the sink goes on with the others), and the event the runner
// retries is sent with the same body.
func TestRetryAfterTransientFailure(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki, withAnswer(func(n int, _ *captured) (int, string) {
		if n == 1 {
			return 503, "try later"
		}
		return 0, ""
	}))
	cfg := testConfig(c, pki)
	cfg.MaxBatchEvents = 1
	s := startSink(t, pipeline.NopSettings("ves"), cfg)
	batch := lifecycle()
	err := s.Deliver(t.Context(), batch)
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failed, 1)
	assert.Equal(t, 1, be.Failed[0].Index, "only the event of the failed request")
	assert.False(t, pipeline.IsPermanent(be.Failed[0].Err))
	first := c.Requests()
	require.Len(t, first, len(batch), "the sink goes on after a transient failure")
	require.NoError(t, s.Deliver(t.Context(), batch[1:2]))
	retried := c.Requests()[len(first):]
	require.Len(t, retried, 1)
	assert.Equal(t, string(first[1].Body), string(retried[0].Body))
}

// TestClearAfterRestart: the clear of an alarm raised before a restart
// carries the raise's start (and, with fault_event_id: alarm, its id):
// the alarm table is the sink's state, which the runner commits with the
// cursor and loads again before building the sink. Without it, the clear
// falls back to raised_at in the data, and else to the clear's own time
// (logged).
func TestClearAfterRestart(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	raise := delivery(1, "sluice.vm.fault", "vm1", t0, pipeline.SeverityCritical, nil)
	cleared := delivery(2, "sluice.vm.fault.cleared", "vm1", t0.Add(time.Hour), pipeline.SeverityInfo, nil)
	clearWithRaisedAt := delivery(2, "sluice.vm.fault.cleared", "vm1", t0.Add(time.Hour), pipeline.SeverityInfo,
		map[string]any{"raised_at": t0.Format(time.RFC3339Nano)})
	run := func(t *testing.T, keepState bool, clearing pipeline.Delivery) (vesHeader, *logRecorder) {
		t.Helper()
		c := newCollector(t, pki)
		cfg := testConfig(c, pki)
		cfg.FaultEventID = vessink.FaultEventIDAlarm
		state := pipeline.NewMemoryState(nil)
		before := startSink(t, pipeline.Settings{ID: "ves", State: state}, cfg)
		require.NoError(t, before.Deliver(t.Context(), []pipeline.Delivery{raise}))
		require.NoError(t, before.Close(t.Context()))
		logs := &logRecorder{}
		set := pipeline.Settings{ID: "ves", Logger: slog.New(logs)}
		if keepState {
			set.State = pipeline.NewMemoryState(state.All())
		}
		after := startSink(t, set, cfg)
		require.NoError(t, after.Deliver(t.Context(), []pipeline.Delivery{clearing}))
		c.requireConforming(t)
		reqs := c.Requests()
		require.Len(t, reqs, 2)
		return headerOf(t, reqs[1].Events[0]), logs
	}
	t.Run("sink state", func(t *testing.T) {
		t.Parallel()
		h, logs := run(t, true, cleared)
		assert.Equal(t, t0.UnixMicro(), h.CommonEventHeader.StartEpochMicrosec)
		assert.Equal(t, raise.Key, h.CommonEventHeader.EventID, "the raise's id")
		assert.False(t, logs.has(slog.LevelWarn, "without a known raise"))
	})
	t.Run("raised_at", func(t *testing.T) {
		t.Parallel()
		h, logs := run(t, false, clearWithRaisedAt)
		assert.Equal(t, t0.UnixMicro(), h.CommonEventHeader.StartEpochMicrosec)
		assert.False(t, logs.has(slog.LevelWarn, "without a known raise"))
	})
	t.Run("no state", func(t *testing.T) {
		t.Parallel()
		h, logs := run(t, false, cleared)
		assert.Equal(t, t0.Add(time.Hour).UnixMicro(), h.CommonEventHeader.StartEpochMicrosec, "the documented fallback")
		assert.Equal(t, cleared.Key, h.CommonEventHeader.EventID)
		assert.True(t, logs.has(slog.LevelWarn, "without a known raise"))
	})
	t.Run("corrupt state file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "alarms.json")
		require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o600))
		c := newCollector(t, pki)
		cfg := testConfig(c, pki)
		cfg.StateFile = path
		logs := &logRecorder{}
		state := pipeline.NewMemoryState(nil)
		s := startSink(t, pipeline.Settings{ID: "ves", Logger: slog.New(logs), State: state}, cfg)
		assert.True(t, logs.has(slog.LevelError, "alarm state file unreadable"))
		require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{raise}))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "{not json", string(b), "the file is never written")
		assert.Len(t, state.All(), 1, "the raise is in the sink state")
	})
}

// writeStateFile writes a state file as versions before the sink state
// did: alarm A1 raised at t0 by delivery key.
func writeStateFile(t *testing.T, path, key string) {
	t.Helper()
	b := fmt.Sprintf(`{"version":1,"alarms":{"A1":[{"start":%d,"event_id":%q,"condition":"VmStatusError"}]}}`,
		t0.UnixMicro(), key)
	require.NoError(t, os.WriteFile(path, []byte(b), 0o600))
}

// TestStateFileMigratedOnce: an existing state_file is read into the sink
// state at the first start (a clear after the upgrade carries the raise's
// start and id), renamed to FILE.migrated at the next start, once the
// runner has committed the state, and never read again. A restart
// neither re-raises nor forgets.
func TestStateFileMigratedOnce(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	alarm := map[string]any{"alarm_id": "A1"}
	raise := delivery(1, "sluice.vm.fault", "vm1", t0, pipeline.SeverityCritical, alarm)
	cleared := delivery(2, "sluice.vm.fault.cleared", "vm1", t0.Add(time.Hour), pipeline.SeverityInfo, alarm)
	c := newCollector(t, pki)
	cfg := testConfig(c, pki)
	cfg.FaultEventID = vessink.FaultEventIDAlarm
	cfg.StateFile = filepath.Join(t.TempDir(), "alarms.json")
	writeStateFile(t, cfg.StateFile, raise.Key)

	// First start after the upgrade: the file's alarm is in the state,
	// the file is still there (nothing is committed yet).
	state := pipeline.NewMemoryState(nil)
	first := startSink(t, pipeline.Settings{ID: "ves", State: state}, cfg)
	require.NoError(t, first.Close(t.Context()))
	assert.FileExists(t, cfg.StateFile)
	committed := state.All()
	assert.Len(t, committed, 2, "the alarm and the migration marker")

	// Second start over the committed state: the file is renamed; the
	// clear carries the raise's start and id.
	state = pipeline.NewMemoryState(committed)
	second := startSink(t, pipeline.Settings{ID: "ves", State: state}, cfg)
	assert.NoFileExists(t, cfg.StateFile)
	assert.FileExists(t, cfg.StateFile+".migrated")
	require.NoError(t, second.Deliver(t.Context(), []pipeline.Delivery{cleared}))
	require.NoError(t, second.Close(t.Context()))
	h := headerOf(t, c.Requests()[0].Events[0])
	assert.Equal(t, t0.UnixMicro(), h.CommonEventHeader.StartEpochMicrosec)
	assert.Equal(t, raise.Key, h.CommonEventHeader.EventID)

	// A new state file (another old copy restored, say) is not read: the
	// state holds the alarms. The clear delivered again is the same.
	writeStateFile(t, cfg.StateFile, "someone-else")
	third := startSink(t, pipeline.Settings{ID: "ves", State: pipeline.NewMemoryState(state.All())}, cfg)
	require.NoError(t, third.Deliver(t.Context(), []pipeline.Delivery{cleared}))
	reqs := c.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, string(reqs[0].Body), string(reqs[1].Body), "a restart neither re-raises nor forgets")
	c.requireConforming(t)
}
