package hostpluginsink_test

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

// flakyListener accepts connections and, while down, resets them at
// once: an endpoint that is unreachable at the TCP level.
type flakyListener struct {
	net.Listener
	down atomic.Bool
}

func (l *flakyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.down.Load() {
			return c, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, as a closed port would
		}
		_ = c.Close()
	}
}

// TestEndpointDownForLong plays the runner's part (deliver a batch,
// retry it with backoff until it succeeds, then read the next batch)
// against an endpoint that is down for two hours of fake time while the
// probe keeps emitting a heartbeat a minute. Every attempt fails fast
// and transiently with origin "network"; and when the endpoint comes
// back the backlog is reported with one POST carrying the newest state,
// not a burst of 120 stale ones.
func TestEndpointDownForLong(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fl := &flakyListener{Listener: l}
	fl.down.Store(true)
	hs := &http.Server{Handler: http.HandlerFunc(srv.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(fl) }()
	t.Cleanup(func() { _ = hs.Close() })

	clock := newFakeClock(epoch)
	set := pipeline.NopSettings("host-health")
	set.Clock = clock
	s := newSink(t, testConfig(t, l.Addr().String()), set)

	// The journal: one heartbeat a minute. The probe fails while the
	// WireServer is away, and recovers 5 minutes after it.
	const outage = 2 * time.Hour
	const recovery = outage + 5*time.Minute
	var journal []pipeline.Delivery
	emitted := 0
	emitUntil := func(now time.Time) {
		for {
			at := epoch.Add(time.Duration(emitted) * time.Minute)
			if at.After(now) {
				return
			}
			healthy := emitted == 0 || at.Sub(epoch) >= recovery
			journal = append(journal, heartbeat(at, healthy))
			emitted++
		}
	}

	var attempts, failures int
	var batch []pipeline.Delivery // the batch being delivered, retried as is
	cursor := 0
	wait := time.Second
	for attempts < 1000 {
		emitUntil(clock.Now())
		if batch == nil && cursor == len(journal) && clock.Now().Sub(epoch) > recovery {
			break
		}
		if clock.Now().Sub(epoch) >= outage {
			fl.down.Store(false)
		}
		if batch == nil {
			if cursor == len(journal) {
				clock.Advance(time.Minute)
				continue
			}
			batch = journal[cursor:min(len(journal), cursor+256)]
		}
		attempts++
		start := time.Now()
		err := s.Deliver(t.Context(), batch)
		require.Less(t, time.Since(start), 5*time.Second, "a Deliver to a down endpoint returns promptly")
		if err != nil {
			failures++
			require.False(t, pipeline.IsPermanent(err), "attempt %d: %v", attempts, err)
			require.Equal(t, hostpluginsink.OriginNetwork, hostpluginsink.FailureOrigin(err), "attempt %d: %v", attempts, err)
			clock.Advance(wait) // the runner's exponential backoff, capped at 30 s
			wait = min(2*wait, 30*time.Second)
			continue
		}
		wait = time.Second
		cursor += len(batch)
		batch = nil
	}
	require.Less(t, attempts, 1000, "the simulation must end")
	assert.Greater(t, failures, 200, "two hours of retries")

	reps := srv.reports(t)
	var health []bool
	for _, r := range reps {
		health = append(health, r.Observations[0].IsHealthy)
	}
	// The first heartbeat (retried for two hours), then the backlog of
	// minutes 1-120 in one POST with its newest state (failing for
	// nearly two hours), then the live heartbeats of minutes 121-125,
	// one a minute, the last one healthy.
	assert.Equal(t, []bool{true, false, false, false, false, false, true}, health)
}

// TestEndpointAnswering503ForLong: an endpoint that answers but fails
// for an hour makes every attempt transient with origin "hostplugin",
// one POST per attempt, and the report goes through once it recovers.
func TestEndpointAnswering503ForLong(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	var healthyAfter atomic.Int64
	healthyAfter.Store(1 << 62)
	srv.setAnswer(func(n int) answer {
		if int64(n) >= healthyAfter.Load() {
			return answer{status: 200}
		}
		return answer{status: 503, body: "Service Unavailable"}
	})
	clock := newFakeClock(epoch)
	set := pipeline.NopSettings("host-health")
	set.Clock = clock
	s := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	batch := []pipeline.Delivery{heartbeat(epoch, true)}
	for clock.Now().Sub(epoch) < time.Hour {
		err := s.Deliver(t.Context(), batch)
		require.Error(t, err)
		require.False(t, pipeline.IsPermanent(err))
		require.Equal(t, hostpluginsink.OriginHostPlugin, hostpluginsink.FailureOrigin(err))
		clock.Advance(30 * time.Second)
	}
	healthyAfter.Store(int64(len(srv.got())))
	require.NoError(t, s.Deliver(t.Context(), batch))
	got := srv.got()
	require.Len(t, got, 121, "120 failed attempts and the one that worked")
	for _, r := range got {
		assert.Equal(t, string(got[0].Body), string(r.Body), "the same report every time")
	}
}
