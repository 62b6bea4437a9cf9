package hostpluginsink_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		retry  []int
		want   hostpluginsink.Class
	}{
		{200, nil, hostpluginsink.Delivered},
		{202, nil, hostpluginsink.Delivered},
		{205, nil, hostpluginsink.Delivered}, // WALinuxAgent retries 205 and 206; a 2xx is taken here
		{301, nil, hostpluginsink.Permanent},
		{400, nil, hostpluginsink.Permanent},
		{403, nil, hostpluginsink.Permanent},
		{403, []int{403}, hostpluginsink.Transient},
		{404, nil, hostpluginsink.Permanent},
		{408, nil, hostpluginsink.Transient},
		{410, nil, hostpluginsink.Permanent},
		{429, nil, hostpluginsink.Transient},
		{500, nil, hostpluginsink.Transient},
		{502, nil, hostpluginsink.Transient},
		{503, nil, hostpluginsink.Transient},
		{507, nil, hostpluginsink.Transient},
		{600, nil, hostpluginsink.Transient},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, hostpluginsink.Classify(tt.status, tt.retry), "status %d retry %v", tt.status, tt.retry)
	}
}

func TestOriginOf(t *testing.T) {
	t.Parallel()
	assert.Equal(t, hostpluginsink.OriginUpstream, hostpluginsink.OriginOf(502, "storage timed out"))
	assert.Equal(t, hostpluginsink.OriginHostPlugin, hostpluginsink.OriginOf(502, "[Internal error in HostGAPlugin] [HTTP Failed] boom"))
	assert.Equal(t, hostpluginsink.OriginHostPlugin, hostpluginsink.OriginOf(500, ""))
	assert.Equal(t, hostpluginsink.OriginHostPlugin, hostpluginsink.OriginOf(503, ""))
	assert.Equal(t, hostpluginsink.OriginHostPlugin, hostpluginsink.OriginOf(400, ""))
}

// heartbeat is a built-in-mapped probe heartbeat delivery at time at.
func heartbeat(at time.Time, healthy bool) pipeline.Delivery {
	return pipeline.Delivery{Event: probeEvent("sluice.probe.heartbeat", at, healthy, ""), Route: "health"}
}

// TestStatusClassification posts one report to a real server answering
// each status and checks what Deliver returns: nil, a permanent error
// with the answer's body (dead-lettered), or a transient one (retried),
// with the failure's origin.
func TestStatusClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answer     answer
		retry      []int
		wantErr    bool
		permanent  bool
		origin     hostpluginsink.Origin
		errContain string
	}{
		{name: "200", answer: answer{status: 200}},
		{name: "201", answer: answer{status: 201}},
		{name: "204", answer: answer{status: 204}},
		{name: "400 with body", answer: answer{status: 400, body: "{\"error\": \"Observations\\nmissing\"}"}, wantErr: true, permanent: true,
			origin: hostpluginsink.OriginHostPlugin, errContain: `status 400 Bad Request (from the host plugin): {"error": "Observations\nmissing"}`},
		{name: "403", answer: answer{status: 403, body: "forbidden"}, wantErr: true, permanent: true, origin: hostpluginsink.OriginHostPlugin, errContain: "forbidden"},
		{name: "403 configured transient", answer: answer{status: 403}, retry: []int{403}, wantErr: true, origin: hostpluginsink.OriginHostPlugin},
		{name: "404", answer: answer{status: 404}, wantErr: true, permanent: true, origin: hostpluginsink.OriginHostPlugin},
		{name: "302 not followed", answer: answer{status: 302}, wantErr: true, permanent: true, origin: hostpluginsink.OriginHostPlugin, errContain: "redirects are not followed"},
		{name: "408", answer: answer{status: 408}, wantErr: true, origin: hostpluginsink.OriginHostPlugin},
		{name: "429", answer: answer{status: 429}, wantErr: true, origin: hostpluginsink.OriginHostPlugin},
		{name: "500", answer: answer{status: 500, body: "boom"}, wantErr: true, origin: hostpluginsink.OriginHostPlugin, errContain: "status 500 Internal Server Error (from the host plugin): boom"},
		{name: "502 upstream", answer: answer{status: 502, body: "storage unavailable"}, wantErr: true, origin: hostpluginsink.OriginUpstream,
			errContain: "failure upstream of the host plugin"},
		{name: "502 internal", answer: answer{status: 502, body: "[Internal error in HostGAPlugin] oops"}, wantErr: true, origin: hostpluginsink.OriginHostPlugin},
		{name: "503", answer: answer{status: 503}, wantErr: true, origin: hostpluginsink.OriginHostPlugin},
		{name: "long body cut", answer: answer{status: 400, body: strings.Repeat("x", 5000)}, wantErr: true, permanent: true,
			origin: hostpluginsink.OriginHostPlugin, errContain: "xxx…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newCaptureServer(t)
			srv.setAnswer(func(int) answer { return tt.answer })
			cfg := testConfig(t, hostPort(srv.Server))
			cfg.RetryStatuses = tt.retry
			s := newSink(t, cfg, pipeline.NopSettings("host-health"))
			err := s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(time.Now(), true)})
			require.Len(t, srv.got(), 1, "one POST, never retried by the sink itself")
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.permanent, pipeline.IsPermanent(err), "permanent: %v", err)
			var se *hostpluginsink.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.answer.status, se.StatusCode)
			assert.Equal(t, tt.origin, se.Origin)
			assert.Equal(t, tt.origin, hostpluginsink.FailureOrigin(err))
			assert.Contains(t, err.Error(), tt.errContain)
			assert.Contains(t, err.Error(), hostpluginsink.NameHeartbeat)
			assert.LessOrEqual(t, len(se.Body), 512)
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		s := newSink(t, testConfig(t, closedPort(t)), pipeline.NopSettings("host-health"))
		err := s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(time.Now(), true)})
		require.Error(t, err)
		assert.False(t, pipeline.IsPermanent(err))
		var ne *hostpluginsink.NetworkError
		require.ErrorAs(t, err, &ne)
		assert.Equal(t, hostpluginsink.OriginNetwork, hostpluginsink.FailureOrigin(err))
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		srv := newCaptureServer(t)
		srv.setAnswer(func(int) answer { return answer{status: 200, delay: 5 * time.Second} })
		cfg := testConfig(t, hostPort(srv.Server))
		cfg.Timeout = 100 * time.Millisecond
		s := newSink(t, cfg, pipeline.NopSettings("host-health"))
		start := time.Now()
		err := s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(time.Now(), true)})
		require.ErrorIs(t, err, hostpluginsink.ErrTimeout)
		assert.False(t, pipeline.IsPermanent(err))
		assert.Equal(t, hostpluginsink.OriginNetwork, hostpluginsink.FailureOrigin(err))
		assert.Less(t, time.Since(start), 3*time.Second)
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		srv := newCaptureServer(t)
		srv.setAnswer(func(int) answer { return answer{status: 200, delay: 5 * time.Second} })
		s := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("host-health"))
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		err := s.Deliver(ctx, []pipeline.Delivery{heartbeat(time.Now(), true)})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, hostpluginsink.ErrTimeout, "the caller's deadline is not the sink's timeout")
	})
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestPartialFailures checks that events no rule maps and reports the
// HealthService refuses are dead-lettered alone, with their index.
func TestPartialFailures(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	srv.setAnswer(func(n int) answer {
		if n == 1 {
			return answer{status: 400, body: "bad observation"}
		}
		return answer{status: 200}
	})
	s := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("host-health"))
	now := time.Now()
	versions := pipeline.Delivery{Event: pipeline.Event{
		ID: "v", Type: "sluice.hostplugin.versions", Time: now, DataContentType: "application/json",
		Data: []byte(`{"kind":"hostplugin","healthy":false,"value":"[HTTP Failed] [500: Internal Server Error] b''"}`),
	}}
	unrelated := pipeline.Delivery{Event: pipeline.Event{ID: "u", Type: "sluice.vm.fault", Time: now}, Route: "faults"}
	err := s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(now, true), unrelated, versions})
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failed, 2)
	assert.Equal(t, 1, be.Failed[0].Index)
	require.ErrorIs(t, be.Failed[0].Err, hostpluginsink.ErrUnmapped)
	assert.True(t, pipeline.IsPermanent(be.Failed[0].Err))
	assert.Contains(t, be.Failed[0].Err.Error(), `no rule selects type "sluice.vm.fault" (route "faults")`)
	assert.Equal(t, 2, be.Failed[1].Index)
	assert.True(t, pipeline.IsPermanent(be.Failed[1].Err))
	assert.Contains(t, be.Failed[1].Err.Error(), "bad observation")
	reports := srv.reports(t)
	require.Len(t, reports, 2)
	assert.Equal(t, hostpluginsink.NameHeartbeat, reports[0].Observations[0].ObservationName)
	assert.Equal(t, hostpluginsink.NameVersions, reports[1].Observations[0].ObservationName)
	assert.False(t, reports[1].Observations[0].IsHealthy)
}

// TestTransientFailureRetriedAsIs checks that a report that failed
// transiently is sent again, unchanged, when the runner delivers the
// batch again, while observations already sent are not sent twice.
func TestTransientFailureRetriedAsIs(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	srv.setAnswer(func(n int) answer {
		if n == 1 {
			return answer{status: 503}
		}
		return answer{status: 200}
	})
	s := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("host-health"))
	now := time.Now()
	versions := pipeline.Delivery{Event: pipeline.Event{
		ID: "v", Type: "sluice.hostplugin.versions", Time: now, DataContentType: "application/json",
		Data: []byte(`{"kind":"hostplugin","healthy":true,"value":""}`),
	}}
	batch := []pipeline.Delivery{heartbeat(now, true), versions}
	require.Error(t, s.Deliver(t.Context(), batch))
	require.NoError(t, s.Deliver(t.Context(), batch))
	got := srv.got()
	require.Len(t, got, 3, "heartbeat, versions (503), versions again")
	assert.Contains(t, string(got[0].Body), hostpluginsink.NameHeartbeat)
	assert.Equal(t, string(got[1].Body), string(got[2].Body))
}
