package httpsink_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// TestFailsNTimesThenSucceeds plays the runner: Deliver is called again
// after each transient error, and succeeds once the peer recovers.
func TestFailsNTimesThenSucceeds(t *testing.T) {
	t.Parallel()
	const n = 3
	for _, mode := range []httpsink.Mode{httpsink.ModeStructured, httpsink.ModeBatch} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			statuses := []int{http.StatusInternalServerError, http.StatusTooManyRequests, http.StatusBadGateway}
			p := newPeer(t, func(_ *http.Request, _ *received, i int) (int, string) {
				if i < n {
					return statuses[i], "not now"
				}
				return http.StatusAccepted, ""
			})
			s := startSink(t, pipeline.NopSettings("collector"), p.config(mode))
			batch := pipelinetest.SampleDeliveries(1, 4)
			pending := batch
			attempts := 0
			for {
				err := s.Deliver(t.Context(), pending)
				attempts++
				if err == nil {
					break
				}
				require.LessOrEqual(t, attempts, n, "attempt %d: %v", attempts, err)
				assert.False(t, pipeline.IsPermanent(err), "attempt %d: %v", attempts, err)
				pending = retried(t, pending, err)
			}
			if mode == httpsink.ModeBatch {
				assert.Equal(t, n+1, attempts)
				assert.Equal(t, wantIDs(batch, nil), p.AcceptedIDs(), "delivered once, in order")
			} else {
				// 500 fails event 0 and the batch goes on, 429 stops it:
				// the whole batch again; 502 fails event 0 only, the rest
				// is taken; then event 0 alone.
				assert.Equal(t, n, attempts)
				assert.ElementsMatch(t, wantIDs(batch, nil), p.AcceptedIDs(), "delivered once each")
			}
		})
	}
}

// retried plays the runner: what it delivers again after err, the
// failures a BatchError lists (none may be permanent here), or the whole
// pending batch.
func retried(t *testing.T, pending []pipeline.Delivery, err error) []pipeline.Delivery {
	t.Helper()
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		return pending
	}
	var out []pipeline.Delivery
	for _, f := range be.Failed {
		require.False(t, pipeline.IsPermanent(f.Err))
		out = append(out, pending[f.Index])
	}
	return out
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	p := newPeer(t, func(r *http.Request, _ *received, _ int) (int, string) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return http.StatusOK, ""
	})
	t.Cleanup(func() { close(release) })
	cfg := p.config(httpsink.ModeBatch)
	cfg.Timeout = 200 * time.Millisecond
	s := startSink(t, pipeline.NopSettings("collector"), cfg)

	start := time.Now()
	err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 3))
	elapsed := time.Since(start)
	require.ErrorIs(t, err, httpsink.ErrTimeout)
	assert.False(t, pipeline.IsPermanent(err))
	assert.Contains(t, err.Error(), "within 200ms")
	assert.Less(t, elapsed, 3*time.Second, "Deliver returns promptly")
	assert.Empty(t, p.Accepted())
}

// TestTimeoutCoversTheBody: a peer that sends its headers and then
// stalls in the body is cut off by the timeout too.
func TestTimeoutCoversTheBody(t *testing.T) {
	t.Parallel()
	p := newPeer(t, nil)
	p.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	cfg := p.config(httpsink.ModeStructured)
	cfg.Timeout = 200 * time.Millisecond
	s := startSink(t, pipeline.NopSettings("collector"), cfg)
	start := time.Now()
	err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1))
	assert.Less(t, time.Since(start), 3*time.Second)
	var se *httpsink.StatusError
	require.ErrorAs(t, err, &se, "the status decides, even if the body stalls")
	assert.Equal(t, "partial", se.Body)
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	other := newPeer(t, nil)
	tests := []struct {
		name      string
		status    int
		otherHost bool
		follow    bool
		wantErr   string
	}{
		{name: "302 not followed", status: http.StatusFound, wantErr: "unexpected redirect to"},
		{name: "307 not followed by default", status: http.StatusTemporaryRedirect, wantErr: "unexpected redirect to"},
		{name: "307 followed", status: http.StatusTemporaryRedirect, follow: true},
		{name: "308 followed", status: http.StatusPermanentRedirect, follow: true},
		{name: "302 never followed", status: http.StatusFound, follow: true, wantErr: "unexpected redirect"},
		{name: "307 to another host", status: http.StatusTemporaryRedirect, otherHost: true, follow: true, wantErr: "unexpected redirect to " + other.srv.URL + "/moved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, nil)
			inner := p.srv.Config.Handler
			p.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/moved" {
					inner.ServeHTTP(w, r)
					return
				}
				target := "/moved?q=secret"
				if tt.otherHost {
					target = other.srv.URL + target
				}
				http.Redirect(w, r, target, tt.status)
			})
			cfg := p.config(httpsink.ModeBatch)
			cfg.FollowRedirects = tt.follow
			s := startSink(t, pipeline.NopSettings("collector"), cfg)
			batch := pipelinetest.SampleDeliveries(1, 2)
			err := s.Deliver(t.Context(), batch)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, wantIDs(batch, nil), p.AcceptedIDs(), "method and body kept")
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			assert.True(t, pipeline.IsPermanent(failureOf(t, err)))
			assert.NotContains(t, err.Error(), "secret", "the Location's query is left out")
			assert.Empty(t, other.Accepted())
		})
	}
}

// failureOf returns the error of the first failure of a BatchError, or
// err itself.
func failureOf(t *testing.T, err error) error {
	t.Helper()
	var be *pipeline.BatchError
	if assert.ErrorAs(t, err, &be) {
		return be.Failed[0].Err
	}
	return err
}
