package httpsink_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

func TestConformance(t *testing.T) {
	t.Parallel()
	tlsPKI := newPKI(t)
	tests := []struct {
		name string
		mod  func(c *httpsink.Config)
		opts []peerOption
	}{
		{name: "structured"},
		{name: "batch", mod: func(c *httpsink.Config) { c.Mode = httpsink.ModeBatch }},
		{name: "batch split by events", mod: func(c *httpsink.Config) { c.Mode, c.MaxEvents = httpsink.ModeBatch, 3 }},
		{name: "batch split by bytes", mod: func(c *httpsink.Config) { c.Mode, c.MaxBytes = httpsink.ModeBatch, 700 }},
		{
			name: "https mutual TLS",
			mod: func(c *httpsink.Config) {
				c.TLS = httpsink.TLSConfig{CAFile: tlsPKI.caFile, CertFile: tlsPKI.clientCert, KeyFile: tlsPKI.clientKey}
			},
			opts: []peerOption{withTLS(tlsPKI.serverTLS(true))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pipelinetest.TestSink(t, func(t *testing.T) (pipeline.Sink, func() []pipeline.Event) {
				p := newPeer(t, nil, tt.opts...)
				cfg := p.config(httpsink.ModeStructured)
				if tt.mod != nil {
					tt.mod(cfg)
				}
				return newSink(t, pipeline.NopSettings("collector"), cfg), p.Accepted
			})
		})
	}
}

// TestGolden pins the exact requests: bodies and the headers that matter.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, mode := range []httpsink.Mode{httpsink.ModeStructured, httpsink.ModeBatch} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, nil)
			cfg := p.config(mode)
			cfg.MaxEvents = 3
			cfg.Headers = map[string]pipeline.Secret{"x-tenant": "acme"}
			s := startSink(t, pipeline.NopSettings("collector"), cfg)
			all := pipelinetest.SampleDeliveries(1, 6)
			require.NoError(t, s.Deliver(t.Context(), all[:2]))
			require.NoError(t, s.Deliver(t.Context(), all[2:]))

			var got strings.Builder
			for _, r := range p.Requests() {
				for _, h := range []string{"Content-Type", "Idempotency-Key", "X-Tenant"} {
					fmt.Fprintf(&got, "%s: %s\n", h, r.Header.Get(h))
				}
				fmt.Fprintf(&got, "%s\n\n", r.Body)
			}
			golden := filepath.Join("testdata", "deliver_"+string(mode)+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), got.String())
		})
	}
}

// quoted is the Idempotency-Key header form of a key (an sf-string).
func quoted(key string) string { return `"` + key + `"` }

// batchKey is the documented Idempotency-Key of a batch request.
func batchKey(ds []pipeline.Delivery) string {
	h := sha256.New()
	for _, d := range ds {
		h.Write([]byte(d.Key))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	batch := pipelinetest.SampleDeliveries(1, 5)
	failFirst := func(_ *http.Request, _ *received, n int) (int, string) {
		if n == 0 {
			return http.StatusServiceUnavailable, "busy"
		}
		return http.StatusOK, ""
	}

	t.Run("structured", func(t *testing.T) {
		t.Parallel()
		p := newPeer(t, failFirst)
		s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeStructured))
		err := s.Deliver(t.Context(), batch)
		assert.Equal(t, []int{0}, transientIndices(t, err), "first attempt: event 0 failed, the others were taken")
		require.NoError(t, s.Deliver(t.Context(), batch[:1]), "retry of the failed event")
		reqs := p.Requests()
		require.Len(t, reqs, 1+len(batch))
		assert.Equal(t, reqs[0].Header.Get("Idempotency-Key"), reqs[len(batch)].Header.Get("Idempotency-Key"), "a retried request repeats its key")
		for i, r := range reqs[:len(batch)] {
			assert.Equal(t, quoted(batch[i].Key), r.Header.Get("Idempotency-Key"), "event %d", i)
			assert.Equal(t, []string{batch[i].Key}, r.Keys, "event %d: idempotencykey attribute", i)
		}
	})
	t.Run("batch", func(t *testing.T) {
		t.Parallel()
		p := newPeer(t, failFirst)
		cfg := p.config(httpsink.ModeBatch)
		cfg.MaxEvents = 2
		s := startSink(t, pipeline.NopSettings("collector"), cfg)
		err := s.Deliver(t.Context(), batch)
		assert.Equal(t, []int{0, 1}, transientIndices(t, err), "first attempt: the first chunk failed, the others were taken")
		require.NoError(t, s.Deliver(t.Context(), batch[:2]), "retry of the failed chunk")
		reqs := p.Requests()
		require.Len(t, reqs, 4, "chunks of 2 (failed), 2 and 1, then the failed chunk again")
		assert.Equal(t, reqs[0].Header.Get("Idempotency-Key"), reqs[3].Header.Get("Idempotency-Key"), "a retried request repeats its key")
		for i, r := range reqs[:3] {
			members := batch[2*i : min(2*i+2, len(batch))]
			assert.Equal(t, quoted(batchKey(members)), r.Header.Get("Idempotency-Key"), "chunk %d", i)
			for j, d := range members {
				assert.Equal(t, d.Key, r.Keys[j], "chunk %d event %d: idempotencykey attribute", i, j)
			}
		}
	})
	t.Run("upstream key replaced", func(t *testing.T) {
		t.Parallel()
		p := newPeer(t, nil)
		s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeBatch))
		d := pipelinetest.SampleDeliveries(1, 1)
		d[0].Event.Extensions["idempotencykey"] = "from-upstream"
		require.NoError(t, s.Deliver(t.Context(), d))
		assert.Equal(t, []string{d[0].Key}, p.Requests()[0].Keys)
		assert.Equal(t, "from-upstream", d[0].Event.Extensions["idempotencykey"], "the caller's event is not modified")
	})
}

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	p := newPeer(t, nil)
	cfg := p.config(httpsink.ModeStructured)
	cfg.Method = "PUT"
	cfg.Headers = map[string]pipeline.Secret{"X-Api-Key": "k3y", "user-agent": "custom/1"}
	s := startSink(t, pipeline.NopSettings("collector"), cfg)
	require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1)))
	r := p.Requests()[0]
	assert.Equal(t, "k3y", r.Header.Get("X-Api-Key"))
	assert.Equal(t, "custom/1", r.Header.Get("User-Agent"), "a configured User-Agent wins")
	assert.Equal(t, "application/cloudevents+json", r.Header.Get("Content-Type"))
	assert.Empty(t, r.Header.Get("Authorization"))
	assert.Empty(t, r.Header.Get("Traceparent"), "no trace in the context, no header")
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	p := newPeer(t, nil)
	s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeStructured))
	require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1)))
	assert.Regexp(t, `^sluice(/\S+)?$`, p.Requests()[0].Header.Get("User-Agent"))
}

func TestInvalidEventFailsAlone(t *testing.T) {
	t.Parallel()
	for _, mode := range []httpsink.Mode{httpsink.ModeStructured, httpsink.ModeBatch} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, nil)
			s := startSink(t, pipeline.NopSettings("collector"), p.config(mode))
			batch := pipelinetest.SampleDeliveries(1, 4)
			batch[2].Event.Source = ""
			err := s.Deliver(t.Context(), batch)
			var be *pipeline.BatchError
			require.ErrorAs(t, err, &be)
			require.Len(t, be.Failed, 1)
			assert.Equal(t, 2, be.Failed[0].Index)
			assert.True(t, pipeline.IsPermanent(be.Failed[0].Err))
			require.ErrorContains(t, be.Failed[0].Err, "missing source")
			assert.Equal(t, []string{"evt-1", "evt-2", "evt-4"}, p.AcceptedIDs())

			err = s.Deliver(t.Context(), batch[2:3])
			assert.True(t, pipeline.IsPermanent(err), "a batch of one gets the permanent error itself: %v", err)
		})
	}
}

func TestDeliverBeforeStartAndAfterClose(t *testing.T) {
	t.Parallel()
	p := newPeer(t, nil)
	s := newSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeStructured))
	batch := pipelinetest.SampleDeliveries(1, 1)
	require.ErrorIs(t, s.Deliver(t.Context(), batch), httpsink.ErrNotStarted)
	require.NoError(t, s.Start(t.Context()))
	require.Error(t, s.Start(t.Context()), "start twice")
	require.NoError(t, s.Deliver(t.Context(), batch))
	require.NoError(t, s.Close(t.Context()))
	require.ErrorIs(t, s.Deliver(t.Context(), batch), httpsink.ErrNotStarted)
	require.Error(t, s.Start(t.Context()), "start after close")
	require.NoError(t, s.Close(t.Context()), "close twice")
	assert.Len(t, p.Requests(), 1)
}

func TestStartDoesNotContactThePeer(t *testing.T) {
	t.Parallel()
	cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
	cfg.URL = "http://127.0.0.1:1/unreachable"
	s := startSink(t, pipeline.NopSettings("collector"), cfg)
	err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1))
	require.Error(t, err)
	assert.False(t, pipeline.IsPermanent(err), "connection refused is transient: %v", err)
	assert.ErrorContains(t, err, "POST http://127.0.0.1:1/unreachable")
}

func TestCancelDuringRequest(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	p := newPeer(t, func(r *http.Request, _ *received, _ int) (int, string) {
		started <- struct{}{}
		<-r.Context().Done()
		return http.StatusOK, ""
	})
	s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeBatch))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Deliver(ctx, pipelinetest.SampleDeliveries(1, 3)) }()
	<-started
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, httpsink.ErrTimeout)
}
