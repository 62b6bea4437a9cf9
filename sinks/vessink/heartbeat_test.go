package vessink_test

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// heartbeatInterval reads heartbeatFields.heartbeatInterval of a VES event.
func heartbeatInterval(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	var e struct {
		HeartbeatFields struct {
			HeartbeatInterval int64 `json:"heartbeatInterval"`
		} `json:"heartbeatFields"`
	}
	require.NoError(t, json.Unmarshal(raw, &e))
	return e.HeartbeatFields.HeartbeatInterval
}

// TestHeartbeatIntervalCommand: a heartbeatIntervalChange in the
// collector's answer changes the interval in force, which the sink
// exposes and reports in the following heartbeats.
func TestHeartbeatIntervalCommand(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	tests := []struct {
		name    string
		answer  string
		want    time.Duration
		warning string
	}{
		{name: "schema shape", answer: `{"commandList":[{"commandType":"heartbeatIntervalChange","heartbeatInterval":120}]}`, want: 120 * time.Second},
		{name: "wrapped shape", answer: `{"commandList":[{"command":{"commandType":"heartbeatIntervalChange","heartbeatInterval":300}},{"command":{"commandType":"measurementIntervalChange","measurementInterval":60}}]}`, want: 300 * time.Second},
		{name: "case-insensitive names", answer: `{"CommandList":[{"CommandType":"heartbeatIntervalChange","HeartbeatInterval":90}]}`, want: 90 * time.Second},
		{name: "invalid interval ignored", answer: `{"commandList":[{"commandType":"heartbeatIntervalChange","heartbeatInterval":-5}]}`, want: time.Minute, warning: "invalid command"},
		{name: "fractional interval ignored", answer: `{"commandList":[{"commandType":"heartbeatIntervalChange","heartbeatInterval":1.5}]}`, want: time.Minute, warning: "invalid command"},
		{name: "plain text answer", answer: "Successfully send event", want: time.Minute},
		{name: "not JSON", answer: "{broken", want: time.Minute},
	}
	for _, tt := range tests {
		for _, version := range []int{7, 5} {
			t.Run(tt.name+"/v"+itoa(uint64(version)), func(t *testing.T) {
				t.Parallel()
				c := newCollector(t, pki, withAnswer(func(n int, _ *captured) (int, string) {
					if n == 0 {
						return 202, tt.answer
					}
					return 0, ""
				}))
				cfg := testConfig(c, pki)
				cfg.Version = version
				cfg.URL = c.URL() + "/eventListener/v" + itoa(uint64(version))
				logs := &logRecorder{}
				s := startSink(t, pipeline.Settings{ID: "ves", Logger: slog.New(logs)}, cfg)
				hr, ok := s.(vessink.HeartbeatReporter)
				require.True(t, ok, "the sink exposes its heartbeat interval")
				assert.Equal(t, time.Minute, hr.HeartbeatInterval(), "configured")

				first := delivery(1, "sluice.heartbeat", "vm17", t0, pipeline.SeverityInfo, heartbeatData(1, "10s"))
				require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{first}))
				assert.Equal(t, tt.want, hr.HeartbeatInterval())
				if tt.warning != "" {
					assert.True(t, logs.has(slog.LevelWarn, tt.warning))
				}
				// The next heartbeat falls in a new interval and reports
				// the interval in force.
				next := delivery(2, "sluice.heartbeat", "vm17", t0.Add(tt.want), pipeline.SeverityInfo, heartbeatData(2, "10s"))
				require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{next}))
				reqs := c.Requests()
				require.Len(t, reqs, 2)
				assert.Equal(t, int64(60), heartbeatInterval(t, reqs[0].Events[0]))
				assert.Equal(t, int64(tt.want/time.Second), heartbeatInterval(t, reqs[1].Events[0]))
				c.requireConforming(t)
			})
		}
	}
}

// TestHeartbeatThinning: of heartbeats every 10s, one per 60s interval is
// sent; the others are acknowledged. Delivering the batch again (a retry,
// a replay) sends the same heartbeats with the same bodies.
func TestHeartbeatThinning(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
	var batch []pipeline.Delivery
	start := t0.Add(5 * time.Second) // 22:13:25, mid-interval
	for i := range 18 {
		batch = append(batch, delivery(uint64(i+1), "sluice.heartbeat", "vm17", start.Add(time.Duration(i)*10*time.Second),
			pipeline.SeverityInfo, heartbeatData(i+1, "10s")))
	}
	require.NoError(t, s.Deliver(t.Context(), batch))
	first := c.Requests()
	var sent []uint64
	for _, r := range first {
		sent = append(sent, sequences(t, r)...)
	}
	// Intervals start at 22:13:00, :14:00, :15:00, :16:00.
	assert.Equal(t, []uint64{1, 5, 11, 17}, sent, "the first heartbeat of each minute")
	for _, r := range first {
		assert.Equal(t, int64(60), heartbeatInterval(t, r.Events[0]))
	}

	require.NoError(t, s.Deliver(t.Context(), batch))
	again := c.Requests()[len(first):]
	require.Len(t, again, len(first))
	for i := range first {
		assert.Equal(t, string(first[i].Body), string(again[i].Body), "replayed heartbeat %d", i)
	}
	c.requireConforming(t)
}

// TestHeartbeatThinningOutOfOrder: heartbeats whose times arrive out of
// order are still thinned to the first seen of each interval (the sink
// remembered only the latest interval and sent them all), one batch or
// one Deliver each; delivered again, the same ones are sent.
func TestHeartbeatThinningOutOfOrder(t *testing.T) {
	t.Parallel()
	base := t0.Add(-20 * time.Second)                            // 22:13:00 starts an interval
	offsets := []time.Duration{10, -10, 40, -40, 65, 55, -5, 70} // seconds from base
	for _, oneByOne := range []bool{false, true} {
		t.Run(map[bool]string{false: "one batch", true: "one event per Deliver"}[oneByOne], func(t *testing.T) {
			t.Parallel()
			pki := newPKI(t)
			c := newCollector(t, pki)
			s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
			var batch []pipeline.Delivery
			for i, off := range offsets {
				batch = append(batch, delivery(uint64(i+1), "sluice.heartbeat", "vm17", base.Add(off*time.Second),
					pipeline.SeverityInfo, heartbeatData(i+1, "10s")))
			}
			deliver := func() {
				if !oneByOne {
					require.NoError(t, s.Deliver(t.Context(), batch))
					return
				}
				for _, d := range batch {
					require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d}))
				}
			}
			sentSince := func(from int) []uint64 {
				var sent []uint64
				for _, r := range c.Requests()[from:] {
					sent = append(sent, sequences(t, r)...)
				}
				return sent
			}
			deliver()
			// 22:13 gets 1 (+10s), 22:12 gets 2 (-10s), 22:14 gets 5 (+65s).
			assert.Equal(t, []uint64{1, 2, 5}, sentSince(0), "the first seen of each interval")
			n := len(c.Requests())
			deliver()
			assert.Equal(t, []uint64{1, 2, 5}, sentSince(n), "delivered again: the same ones")
		})
	}
}
