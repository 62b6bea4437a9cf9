package hostpluginsink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

// epoch is the start of the timelines (the harness's EPOCH).
var epoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// step is one measurement of a timeline: at seconds after epoch, the
// check's own result.
type step struct {
	At int `json:"at"`
	// EventAt, when set, is the event's time for the sink (seconds after
	// epoch); At is then when WALinuxAgent observes it.
	EventAt  *int   `json:"event_at,omitempty"`
	OK       bool   `json:"ok"`
	Response string `json:"response,omitempty"`
	Source   string `json:"source,omitempty"`
}

// agentTimeline runs WALinuxAgent's own signal logic over steps with a
// fake clock and returns the body it posts at each step ("" for none).
func agentTimeline(t *testing.T, signal string, steps []step, opts ...timelineOpts) []string {
	t.Helper()
	python := requireAgent(t)
	in := map[string]any{"signal": signal, "steps": steps}
	for _, o := range opts {
		in["error_state"], in["period"] = o.errorState.Seconds(), o.period.Seconds()
	}
	spec, err := json.Marshal(in)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "testdata/healthservice_timing.py")
	cmd.Stdin = bytes.NewReader(spec)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "WALinuxAgent timing harness failed:\n%s", stderr.String())
	var bodies []*string
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &bodies), "harness output %q", stdout.String())
	require.Len(t, bodies, len(steps))
	out := make([]string, len(bodies))
	for i, b := range bodies {
		if b != nil {
			out[i] = *b
		}
	}
	return out
}

// timelineRule maps test events of a signal to its observation with the
// name's default period and error state, as an operator would write it.
// (only the artifact observation has a description: the caller).
func timelineRule(name, typ string) hostpluginsink.ObservationConfig {
	r := hostpluginsink.ObservationConfig{
		Name:    name,
		Types:   []string{typ},
		Healthy: hostpluginsink.HealthyConfig{From: "data.ok"},
		Value:   "data.response",
	}
	if name == hostpluginsink.NameArtifact {
		r.Description = "data.source"
	}
	return r
}

// probeEvent is a hostplugin probe event as sources/probesource emits
// it (the fields the built-in mapping reads, and a few more), with
// failing_since when failingSince is given.
func probeEvent(typ string, at time.Time, healthy bool, errText string, failingSince ...time.Time) pipeline.Event {
	m := map[string]any{
		"probe": "hostplugin", "kind": "hostplugin", "target": "http://168.63.129.16:32526",
		"state": map[bool]string{true: "healthy", false: "unhealthy"}[healthy], "healthy": healthy,
		"error": errText, "interval": "1m0s", "checked_at": at,
	}
	if len(failingSince) > 0 {
		m["failing_since"] = failingSince[0]
	}
	data, _ := json.Marshal(m)
	return pipeline.Event{
		ID: fmt.Sprint(at.Unix()), Source: "/sluice/sources/probe", Origin: "probe", Type: typ, Subject: "hostplugin", Time: at,
		DataContentType: "application/json", Data: data,
	}
}

// timelineOpts replaces the status and artifact rules' error state and
// period, in the sink and in the agent.
type timelineOpts struct{ errorState, period time.Duration }

// sinkTimeline delivers steps one event at a time, with the sink's
// clock at the step's time, and returns the body posted at each step.
func sinkTimeline(t *testing.T, signal string, steps []step, opts ...timelineOpts) []string {
	t.Helper()
	srv := newCaptureServer(t)
	cfg := testConfig(t, hostPort(srv.Server))
	cfg.Source = "WALinuxAgent"
	switch signal {
	case "imds":
		cfg.Observations = []hostpluginsink.ObservationConfig{timelineRule(hostpluginsink.NameIMDSHeartbeat, "test.imds")}
	case "status":
		cfg.Observations = []hostpluginsink.ObservationConfig{timelineRule(hostpluginsink.NameStatus, "test.status")}
	case "artifact":
		cfg.Observations = []hostpluginsink.ObservationConfig{timelineRule(hostpluginsink.NameArtifact, "test.artifact")}
	}
	for _, o := range opts {
		cfg.Observations[0].ErrorState, cfg.Observations[0].Period = &o.errorState, &o.period
	}
	clock := newFakeClock(epoch)
	set := pipeline.NopSettings("host-health")
	set.Clock = clock
	s := newSink(t, cfg, set)
	out := make([]string, len(steps))
	var streak time.Time // when the current failures began, as the probe counts
	for i, st := range steps {
		at := epoch.Add(time.Duration(st.At) * time.Second)
		clock.Advance(at.Sub(clock.Now()))
		if st.EventAt != nil {
			at = epoch.Add(time.Duration(*st.EventAt) * time.Second)
		}
		var e pipeline.Event
		switch {
		case signal == "heartbeat" && st.OK:
			streak = time.Time{}
			e = probeEvent("sluice.probe.heartbeat", at, true, "")
		case signal == "heartbeat":
			if streak.IsZero() {
				streak = at
			}
			e = probeEvent("sluice.probe.heartbeat", at, false, st.Response, streak)
		default:
			data, err := json.Marshal(st)
			require.NoError(t, err)
			e = pipeline.Event{ID: fmt.Sprint(i), Type: "test." + signal, Time: at, DataContentType: "application/json", Data: data}
		}
		before := len(srv.got())
		require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{{Event: e, Route: "r"}}), "step %d", i)
		got := srv.got()
		require.LessOrEqual(t, len(got), before+1, "step %d: at most one POST", i)
		if len(got) > before {
			out[i] = string(got[before].Body)
		}
	}
	return out
}

// every returns n steps one interval apart with the given results.
func every(interval int, results ...bool) []step {
	out := make([]step, len(results))
	for i, ok := range results {
		out[i] = step{At: i * interval, OK: ok}
		if !ok {
			out[i].Response = fmt.Sprintf("failure %d", i)
		}
	}
	return out
}

const (
	T = true
	F = false
)

// TestTimingMatchesWALinuxAgent runs the agent's own ErrorState and
// should_report code and the sink over the same timelines with fake
// clocks, and compares, step by step, whether a report was posted and
// its exact body: heartbeats every minute turning unhealthy after 5
// minutes of failure (3 for IMDS) and resetting on success; status and
// artifact reports at most once a minute, whatever the events' cadence.
func TestTimingMatchesWALinuxAgent(t *testing.T) {
	t.Parallel()
	irregular := func() []step {
		at := []int{0, 10, 30, 61, 65, 119, 121, 200, 299, 310, 330, 371, 372, 420, 500, 700, 701, 760, 761, 900}
		ok := []bool{T, F, F, F, F, F, F, F, F, F, F, T, F, F, F, F, F, T, F, F}
		out := make([]step, len(at))
		for i := range at {
			out[i] = step{At: at[i], OK: ok[i], Source: "WireClient"}
			if !ok[i] {
				out[i].Response = fmt.Sprintf("[HTTP Failed] [500: Internal Server Error] b'step %d'", i)
			}
		}
		return out
	}
	tests := []struct {
		signal string
		steps  []step
	}{
		{"heartbeat", every(60, T, F, F, F, F, F, F, F, T, F, F, T, F, F, F, F, F, F, F, F, T)},
		{"imds", every(60, F, F, F, F, F, T, F, F, F, F, F, T)},
		{"status", irregular()},
		{"artifact", irregular()},
	}
	for _, tt := range tests {
		t.Run(tt.signal, func(t *testing.T) {
			t.Parallel()
			want := agentTimeline(t, tt.signal, tt.steps)
			got := sinkTimeline(t, tt.signal, tt.steps)
			for i := range tt.steps {
				assert.Equal(t, want[i], got[i], "step %d (t=%ds, ok=%v)", i, tt.steps[i].At, tt.steps[i].OK)
			}
			unhealthy := 0
			for _, b := range want {
				if bytes.Contains([]byte(b), []byte(`"IsHealthy": false`)) {
					unhealthy++
				}
			}
			assert.Positive(t, unhealthy, "the timeline must reach the error state")
		})
	}
}

// TestOutOfOrderTimesMatchWALinuxAgent delivers events whose times run
// backwards: the agent, which reads the wall clock as it observes,
// sees them at the newest time so far. With error_state 0s, a failure
// older than the previous one was reported healthy (a negative
// failing-for duration); with a longer error state, an older failure
// turned a report that was already unhealthy back to healthy. The sink
// must post what the agent posts, byte for byte, at every step.
func TestOutOfOrderTimesMatchWALinuxAgent(t *testing.T) {
	t.Parallel()
	eventAt := []int{0, 100, 50, 120, 110, 40, 200, 190, 180, 260, 230}
	ok := []bool{T, F, F, F, F, F, T, F, F, F, F}
	steps := make([]step, len(eventAt))
	latest := 0
	for i := range eventAt {
		latest = max(latest, eventAt[i])
		steps[i] = step{At: latest, EventAt: &eventAt[i], OK: ok[i], Source: "WireClient"}
		if !ok[i] {
			steps[i].Response = fmt.Sprintf("failure %d", i)
		}
	}
	for _, o := range []timelineOpts{{0, 0}, {15 * time.Second, 0}, {0, time.Minute}, {15 * time.Second, time.Minute}} {
		for _, signal := range []string{"status", "artifact"} {
			t.Run(fmt.Sprintf("%s/error_state=%s/period=%s", signal, o.errorState, o.period), func(t *testing.T) {
				t.Parallel()
				want := agentTimeline(t, signal, steps, o)
				got := sinkTimeline(t, signal, steps, o)
				unhealthy := 0
				for i := range steps {
					assert.Equal(t, want[i], got[i], "step %d (event at %ds, ok=%v)", i, eventAt[i], ok[i])
					if strings.Contains(want[i], `"IsHealthy": false`) {
						unhealthy++
					}
				}
				assert.Positive(t, unhealthy, "the timeline must reach the error state")
			})
		}
	}
}
