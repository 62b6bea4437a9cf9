package hostpluginsink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

func TestFactory(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSinkFactory(t, hostpluginsink.NewFactory())
}

// perEventConfig maps every event to an observation named by its ID,
// reported at once: the shape the conformance suite can read back.
func perEventConfig(t testing.TB, endpoint string) *hostpluginsink.Config {
	t.Helper()
	zero := time.Duration(0)
	cfg := testConfig(t, endpoint)
	cfg.BuiltinObservations = false
	cfg.Observations = []hostpluginsink.ObservationConfig{{
		NameFrom: "id", Types: []string{"*"}, Healthy: hostpluginsink.HealthyConfig{From: "literal:true"},
		Value: "subject", Period: &zero, ErrorState: &zero,
	}}
	return cfg
}

func TestSinkConformance(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSink(t, func(t *testing.T) (pipeline.Sink, func() []pipeline.Event) {
		srv := newCaptureServer(t)
		s, err := hostpluginsink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("host-health"), perEventConfig(t, hostPort(srv.Server)))
		require.NoError(t, err)
		return s, func() []pipeline.Event {
			var out []pipeline.Event
			for _, r := range srv.reports(t) {
				for _, o := range r.Observations {
					out = append(out, pipeline.Event{ID: o.ObservationName, Subject: o.Value})
				}
			}
			return out
		}
	})
}

func TestNotStarted(t *testing.T) {
	t.Parallel()
	s, err := hostpluginsink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("h"), testConfig(t, "127.0.0.1:1"))
	require.NoError(t, err)
	require.ErrorIs(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(time.Now(), true)}), hostpluginsink.ErrNotStarted)
	require.NoError(t, s.Start(t.Context()))
	require.Error(t, s.Start(t.Context()), "a second Start")
	require.NoError(t, s.Close(t.Context()))
	require.ErrorIs(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(time.Now(), true)}), hostpluginsink.ErrNotStarted)
}

// TestReportPeriodWithFasterEvents: heartbeats every 15 s are reported
// once a minute (the period), with the error state still fed by every
// event in between.
func TestReportPeriodWithFasterEvents(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	clock := newFakeClock(epoch)
	set := pipeline.NopSettings("h")
	set.Clock = clock
	s := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	// Healthy for 2 min, then failing from t=120s on.
	var reportedAt []int
	var health []bool
	for sec := 0; sec <= 600; sec += 15 {
		clock.Advance(epoch.Add(time.Duration(sec) * time.Second).Sub(clock.Now()))
		before := len(srv.got())
		require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(clock.Now(), sec < 120)}))
		if reps := srv.reports(t); len(reps) > before {
			reportedAt = append(reportedAt, sec)
			health = append(health, reps[len(reps)-1].Observations[0].IsHealthy)
		}
	}
	assert.Equal(t, []int{0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600}, reportedAt)
	// failing since 120 s: unhealthy once 5 min have passed, at 420 s.
	assert.Equal(t, []bool{true, true, true, true, true, true, true, false, false, false, false}, health)
}

// TestBacklogCoalesced: a batch holding an hour of heartbeats (a sink
// catching up) makes one POST with the newest state, judged in event
// time, not a burst of sixty stale reports.
func TestBacklogCoalesced(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	clock := newFakeClock(epoch.Add(2 * time.Hour))
	set := pipeline.NopSettings("h")
	set.Clock = clock
	s := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	var batch []pipeline.Delivery
	for m := range 60 {
		// failing for the last 10 minutes of the hour
		batch = append(batch, heartbeat(epoch.Add(time.Duration(m)*time.Minute), m < 50))
	}
	require.NoError(t, s.Deliver(t.Context(), batch))
	reps := srv.reports(t)
	require.Len(t, reps, 1)
	assert.False(t, reps[0].Observations[0].IsHealthy, "failing for 9 minutes of event time")

	// Recovered, then failing again from minute 67: two minutes of
	// event time later the newest state is still reported healthy,
	// however late the batch arrives.
	batch = batch[:0]
	for m := 60; m < 70; m++ {
		batch = append(batch, heartbeat(epoch.Add(time.Duration(m)*time.Minute), m < 67))
	}
	require.NoError(t, s.Deliver(t.Context(), batch))
	reps = srv.reports(t)
	require.Len(t, reps, 2)
	assert.True(t, reps[1].Observations[0].IsHealthy, "failing for 2 minutes only")
}

// TestEventWithoutTime falls back to the sink's clock.
func TestEventWithoutTime(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	clock := newFakeClock(epoch)
	set := pipeline.NopSettings("h")
	set.Clock = clock
	s := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	deliver := func(healthy bool) {
		d := heartbeat(epoch, healthy)
		d.Event.Time = time.Time{}
		require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d}))
	}
	deliver(false) // failing from epoch, reported (first report)
	clock.Advance(30 * time.Second)
	deliver(false) // inside the period
	clock.Advance(5 * time.Minute)
	deliver(false) // 5m30s failing
	reps := srv.reports(t)
	require.Len(t, reps, 2)
	assert.True(t, reps[0].Observations[0].IsHealthy)
	assert.False(t, reps[1].Observations[0].IsHealthy)
}

// TestBuiltinMapping feeds the events of a hostplugin probe through the
// default mapping.
func TestBuiltinMapping(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name    string
		event   pipeline.Event
		want    string
		healthy bool
		value   string
		wantErr string
	}{
		{name: "state", event: probeEvent("sluice.probe.state", now, false, "connection refused"), want: hostpluginsink.NameHeartbeat, healthy: true},
		{name: "heartbeat", event: probeEvent("sluice.probe.heartbeat", now, true, ""), want: hostpluginsink.NameHeartbeat, healthy: true},
		{name: "result", event: probeEvent("sluice.probe.result", now, true, ""), want: hostpluginsink.NameHeartbeat, healthy: true},
		{name: "versions failed", event: versionsEvent(now, false, "[HTTP Failed] [500: Internal Server Error] b'x'"),
			want: hostpluginsink.NameVersions, value: "[HTTP Failed] [500: Internal Server Error] b'x'"},
		{name: "versions ok", event: versionsEvent(now, true, ""), want: hostpluginsink.NameVersions, healthy: true},
		{name: "http probe", event: func() pipeline.Event {
			e := probeEvent("sluice.probe.state", now, true, "")
			e.Data = []byte(`{"kind":"http","healthy":true}`)
			return e
		}(), wantErr: `no rule selects type "sluice.probe.state"`},
		{name: "no health", event: func() pipeline.Event {
			e := probeEvent("sluice.probe.state", now, true, "")
			e.Data = []byte(`{"kind":"hostplugin"}`)
			return e
		}(), wantErr: "healthy: the selected value is missing"},
		{name: "not json", event: func() pipeline.Event {
			e := probeEvent("sluice.probe.state", now, true, "")
			e.Data = []byte(`{"kind":`)
			return e
		}(), wantErr: "data is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newCaptureServer(t)
			s := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("h"))
			err := s.Deliver(t.Context(), []pipeline.Delivery{{Event: tt.event, Route: "health"}})
			if tt.wantErr != "" {
				require.ErrorIs(t, err, hostpluginsink.ErrUnmapped)
				assert.True(t, pipeline.IsPermanent(err))
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, srv.got())
				return
			}
			require.NoError(t, err)
			reps := srv.reports(t)
			require.Len(t, reps, 1)
			r := reps[0]
			assert.Equal(t, "reporttargethealth", r.API)
			assert.Equal(t, "1.0", r.Version)
			assert.Equal(t, "Sluice", r.Source)
			require.Len(t, r.Observations, 1)
			o := r.Observations[0]
			assert.Equal(t, tt.want, o.ObservationName)
			assert.Equal(t, tt.healthy, o.IsHealthy)
			assert.Equal(t, tt.value, o.Value)
			assert.Empty(t, o.Description)
		})
	}
}

func versionsEvent(at time.Time, healthy bool, value string) pipeline.Event {
	data, _ := json.Marshal(map[string]any{
		"probe": "hostplugin", "kind": "hostplugin", "healthy": healthy, "supported": healthy,
		"api_version": "2015-09-01", "versions": []string{"2015-09-01"}, "value": value,
	})
	return pipeline.Event{ID: "v" + fmt.Sprint(at.UnixNano()), Type: "sluice.hostplugin.versions", Subject: "hostplugin",
		Time: at, DataContentType: "application/json", Data: data}
}

// TestRulesAndSelectors covers configured rules before the built-in
// ones: per-route overrides, when conditions, healthy.equals, selectors
// of attributes, extensions, array members and literals.
func TestRulesAndSelectors(t *testing.T) {
	t.Parallel()
	zero := time.Duration(0)
	srv := newCaptureServer(t)
	cfg := testConfig(t, hostPort(srv.Server))
	cfg.Observations = []hostpluginsink.ObservationConfig{
		{ // route "canary" reports the probe as a status observation instead
			Name: hostpluginsink.NameStatus, Types: []string{"sluice.probe.*"}, Routes: []string{"canary"},
			Healthy:     hostpluginsink.HealthyConfig{From: "data.state", Equals: []string{"healthy", "degraded"}},
			Description: "ext.region", Value: "data.versions.1", Period: &zero, ErrorState: &zero,
		},
		{
			Name: "Custom", Types: []string{"custom.*"}, When: map[string]string{"subject": "web", "data.kind": "http"},
			Healthy: hostpluginsink.HealthyConfig{From: "ext.ok"}, Description: "literal:from sluice", Value: "data",
			Period: &zero, ErrorState: &zero,
		},
	}
	s := newSink(t, cfg, pipeline.NopSettings("h"))
	now := time.Now()
	canary := heartbeat(now, true)
	canary.Route = "canary"
	canary.Event.Data = []byte(`{"kind":"hostplugin","state":"degraded","healthy":false,"versions":["a","b"]}`)
	canary.Event.Extensions = map[string]string{"region": "eu"}
	custom := pipeline.Delivery{Event: pipeline.Event{ID: "c", Type: "custom.check", Subject: "web", Time: now,
		Data: []byte(`{"kind":"http","n":1.50}`), Extensions: map[string]string{"ok": "false"}}}
	otherSubject := custom
	otherSubject.Event.Subject = "db"
	err := s.Deliver(t.Context(), []pipeline.Delivery{canary, heartbeat(now, true), custom, otherSubject})
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failed, 1)
	assert.Equal(t, 3, be.Failed[0].Index, "the when condition on subject does not hold")
	reps := srv.reports(t)
	require.Len(t, reps, 3)
	assert.Equal(t, hostpluginsink.NameStatus, reps[0].Observations[0].ObservationName)
	assert.True(t, reps[0].Observations[0].IsHealthy, "degraded is listed in equals")
	assert.Equal(t, "eu", reps[0].Observations[0].Description)
	assert.Equal(t, "b", reps[0].Observations[0].Value)
	assert.Equal(t, hostpluginsink.NameHeartbeat, reps[1].Observations[0].ObservationName, "other routes keep the built-in mapping")
	assert.Equal(t, "Custom", reps[2].Observations[0].ObservationName)
	assert.False(t, reps[2].Observations[0].IsHealthy)
	assert.Equal(t, "from sluice", reps[2].Observations[0].Description)
	assert.Contains(t, reps[2].Observations[0].Value, `"n":1.50`, "numbers keep their text")
	assert.JSONEq(t, `{"kind":"http","n":1.50}`, reps[2].Observations[0].Value)
}

// TestCloseDuringDeliver closes the sink while a POST hangs.
func TestCloseDuringDeliver(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	srv.setAnswer(func(int) answer { return answer{status: 200, delay: 300 * time.Millisecond} })
	s := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("h"))
	done := make(chan error, 1)
	go func() { done <- s.Deliver(context.Background(), []pipeline.Delivery{heartbeat(time.Now(), true)}) }()
	require.Eventually(t, func() bool { return len(srv.got()) == 1 }, 5*time.Second, 5*time.Millisecond, "the POST is in flight")
	require.NoError(t, s.Close(t.Context()))
	require.NoError(t, <-done, "an in-flight POST completes")
	require.ErrorIs(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(time.Now(), true)}), hostpluginsink.ErrNotStarted)
}

// TestErrorStateFromProbe: with the probe's failing_since (the built-in
// heartbeat rule reads it), a sink restarted in the middle of a failure
// reports unhealthy exactly 5 minutes after the failures began, not 5
// minutes after it came back; without it the sink counts afresh.
func TestErrorStateFromProbe(t *testing.T) {
	t.Parallel()
	for _, withSince := range []bool{true, false} {
		t.Run(fmt.Sprintf("failing_since=%v", withSince), func(t *testing.T) {
			t.Parallel()
			srv := newCaptureServer(t)
			failingFrom := epoch.Add(time.Minute)
			event := func(m int) pipeline.Delivery {
				at := epoch.Add(time.Duration(m) * time.Minute)
				if !withSince {
					return heartbeat(at, false)
				}
				return pipeline.Delivery{Event: probeEvent("sluice.probe.heartbeat", at, false, "refused", failingFrom), Route: "r"}
			}
			first := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("h"))
			for m := 1; m <= 3; m++ {
				require.NoError(t, first.Deliver(t.Context(), []pipeline.Delivery{event(m)}))
			}
			require.NoError(t, first.Close(t.Context()))
			// Restarted: a new sink, no memory of the failure.
			second := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("h"))
			for m := 4; m <= 7; m++ {
				require.NoError(t, second.Deliver(t.Context(), []pipeline.Delivery{event(m)}))
			}
			var health []bool
			for _, r := range srv.reports(t) {
				health = append(health, r.Observations[0].IsHealthy)
			}
			if withSince {
				// failing since minute 1: unhealthy from minute 6 on
				assert.Equal(t, []bool{true, true, true, true, true, false, false}, health)
			} else {
				// the second sink counts from minute 4: still healthy at 7
				assert.Equal(t, []bool{true, true, true, true, true, true, true}, health)
			}
		})
	}
}

// TestStateSurvivesRestart: a sink rebuilt over the state its previous
// instance left (what the runner commits with the cursor) neither forgets
// a failure in progress, even without failing_since, nor reports again
// inside a period it already reported in.
func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	state := pipeline.NewMemoryState(nil)
	set := pipeline.NopSettings("h")
	set.State = state
	at := func(m int) time.Time { return epoch.Add(time.Duration(m) * time.Minute) }
	first := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	for m := 1; m <= 3; m++ {
		require.NoError(t, first.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(m), false)}))
	}
	require.NoError(t, first.Close(t.Context()))
	require.NotEmpty(t, state.TakeChanges("h"), "the sink wrote its state")

	set.State = pipeline.NewMemoryState(state.All()) // restarted: the committed state, loaded again
	second := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	// inside the period of minute 3's report: not sent again
	require.NoError(t, second.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(3).Add(20*time.Second), false)}))
	for m := 4; m <= 7; m++ {
		require.NoError(t, second.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(m), false)}))
	}
	var health []bool
	for _, r := range srv.reports(t) {
		health = append(health, r.Observations[0].IsHealthy)
	}
	// failing since minute 1: unhealthy from minute 6 on, one report a minute
	assert.Equal(t, []bool{true, true, true, true, true, false, false}, health)
}

// An unreadable stored observation is dropped; the sink starts.
func TestUnreadableStateDropped(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	set := pipeline.NopSettings("h")
	state := pipeline.NewMemoryState(map[string][]byte{"channel/a": []byte("{"), "channel/b": []byte(`{"v":9}`), "other": []byte("x")})
	set.State = state
	s := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	assert.Equal(t, map[string][]byte{"other": []byte("x")}, state.All())
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(epoch, true)}))
	assert.Len(t, srv.got(), 1)
}

func TestFailingSinceInvalid(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	s := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("h"))
	d := heartbeat(time.Now(), false)
	d.Event.Data = []byte(`{"kind":"hostplugin","healthy":false,"failing_since":"yesterday"}`)
	err := s.Deliver(t.Context(), []pipeline.Delivery{d})
	require.ErrorIs(t, err, hostpluginsink.ErrUnmapped)
	require.ErrorContains(t, err, `failing_since: want an RFC 3339 time, got "yesterday"`)
}
