package hostpluginsink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
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
	At       int    `json:"at"`
	OK       bool   `json:"ok"`
	Response string `json:"response,omitempty"`
	Source   string `json:"source,omitempty"`
}

// agentTimeline runs WALinuxAgent's own signal logic over steps with a
// fake clock and returns the body it posts at each step ("" for none).
func agentTimeline(t *testing.T, signal string, steps []step) []string {
	t.Helper()
	python := requireAgent(t)
	spec, err := json.Marshal(map[string]any{"signal": signal, "steps": steps})
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
		ID: fmt.Sprint(at.Unix()), Source: "sluice/probe", Type: typ, Subject: "hostplugin", Time: at,
		DataContentType: "application/json", Data: data,
	}
}

// sinkTimeline delivers steps one event at a time, with the sink's
// clock at the event's time, and returns the body posted at each step.
func sinkTimeline(t *testing.T, signal string, steps []step) []string {
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
	clock := newFakeClock(epoch)
	set := pipeline.NopSettings("host-health")
	set.Clock = clock
	s := newSink(t, cfg, set)
	out := make([]string, len(steps))
	var streak time.Time // when the current failures began, as the probe counts
	for i, st := range steps {
		at := epoch.Add(time.Duration(st.At) * time.Second)
		clock.Advance(at.Sub(clock.Now()))
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
