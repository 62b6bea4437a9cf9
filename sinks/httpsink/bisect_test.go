package httpsink_test

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

const poison = "poison"

// refusePoison answers status to any request holding an event whose
// subject is poison, and 200 otherwise.
func refusePoison(status int) answerFunc {
	return func(_ *http.Request, rec *received, _ int) (int, string) {
		for _, e := range rec.Events {
			if e.Subject == poison {
				return status, "event " + e.ID + " is poison"
			}
		}
		return http.StatusOK, ""
	}
}

// poisoned returns n sample deliveries with the events at bad poisoned.
func poisoned(n int, bad ...int) []pipeline.Delivery {
	batch := pipelinetest.SampleDeliveries(1, n)
	for _, i := range bad {
		batch[i].Event.Subject = poison
	}
	return batch
}

func failedIndices(t *testing.T, err error) []int {
	t.Helper()
	return indicesOf(t, err, true)
}

// transientIndices returns the indices of the BatchError err, which must
// all be transient.
func transientIndices(t *testing.T, err error) []int {
	t.Helper()
	return indicesOf(t, err, false)
}

// indicesOf returns the indices of the BatchError err, whose failures
// must all be permanent, or all transient.
func indicesOf(t *testing.T, err error, permanent bool) []int {
	t.Helper()
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	var idx []int
	for _, f := range be.Failed {
		assert.Equal(t, permanent, pipeline.IsPermanent(f.Err), "failure %d permanent: %v", f.Index, f.Err)
		idx = append(idx, f.Index)
	}
	return idx
}

// wantIDs returns the IDs of batch without the indices bad.
func wantIDs(batch []pipeline.Delivery, bad []int) []string {
	var ids []string
	for i, d := range batch {
		if !slices.Contains(bad, i) {
			ids = append(ids, d.Event.ID)
		}
	}
	return ids
}

func TestBisect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mode      httpsink.Mode
		n         int
		maxEvents int
		bad       []int
	}{
		{name: "one poison", mode: httpsink.ModeBatch, n: 16, maxEvents: 100, bad: []int{5}},
		{name: "several poisons", mode: httpsink.ModeBatch, n: 20, maxEvents: 100, bad: []int{0, 3, 11, 12, 19}},
		{name: "all poison", mode: httpsink.ModeBatch, n: 7, maxEvents: 100, bad: []int{0, 1, 2, 3, 4, 5, 6}},
		{name: "split and bisect", mode: httpsink.ModeBatch, n: 20, maxEvents: 6, bad: []int{3, 11, 12, 19}},
		{name: "structured", mode: httpsink.ModeStructured, n: 10, bad: []int{2, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, refusePoison(http.StatusBadRequest))
			cfg := p.config(tt.mode)
			if tt.maxEvents > 0 {
				cfg.MaxEvents = tt.maxEvents
			}
			s := startSink(t, pipeline.NopSettings("collector"), cfg)
			batch := poisoned(tt.n, tt.bad...)

			err := s.Deliver(t.Context(), batch)
			assert.Equal(t, tt.bad, failedIndices(t, err), "exactly the poison events fail, in order")
			require.ErrorContains(t, err, "is poison", "the peer's reason is kept")
			assert.Equal(t, wantIDs(batch, tt.bad), p.AcceptedIDs(), "every other event is delivered once, in order")
		})
	}
}

func TestBisectCost(t *testing.T) {
	t.Parallel()
	p := newPeer(t, refusePoison(http.StatusUnprocessableEntity))
	s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeBatch))
	require.Error(t, s.Deliver(t.Context(), poisoned(64, 40)))
	// 1 + 2 per level of a 64-event tree: 1 + 2*6.
	assert.Len(t, p.Requests(), 13)
}

// TestNoBisectOnRequestErrors: statuses about the request as a whole
// fail every event without bisecting.
func TestNoBisectOnRequestErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnsupportedMediaType, http.StatusFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, func(*http.Request, *received, int) (int, string) { return status, "no" })
			cfg := p.config(httpsink.ModeBatch)
			cfg.MaxEvents = 4
			s := startSink(t, pipeline.NopSettings("collector"), cfg)
			err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 10))
			assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, failedIndices(t, err))
			assert.Len(t, p.Requests(), 3, "one request per chunk, no bisection")
		})
	}
}

func TestTransientErrorDuringBisectStops(t *testing.T) {
	t.Parallel()
	p := newPeer(t, func(r *http.Request, rec *received, n int) (int, string) {
		if n == 2 { // the second half of the first split
			return http.StatusServiceUnavailable, "busy"
		}
		return refusePoison(http.StatusBadRequest)(r, rec, n)
	})
	s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeBatch))
	batch := poisoned(8, 1)
	err := s.Deliver(t.Context(), batch)
	require.Error(t, err)
	assert.False(t, pipeline.IsPermanent(err), "transient: %v", err)
	var be *pipeline.BatchError
	assert.NotErrorAs(t, err, &be, "the runner retries the whole batch")
	assert.Len(t, p.Requests(), 3, "nothing is sent after the transient error")
}

// TestStructuredTransientFailsOnlyThatEvent: in structured mode a
// transient failure fails its event only; the others are sent and
// reported taken, so the runner retries that event alone.
func TestStructuredTransientFailsOnlyThatEvent(t *testing.T) {
	t.Parallel()
	p := newPeer(t, func(_ *http.Request, _ *received, n int) (int, string) {
		if n == 2 {
			return http.StatusBadGateway, "down"
		}
		return http.StatusOK, ""
	})
	s := startSink(t, pipeline.NopSettings("collector"), p.config(httpsink.ModeStructured))
	batch := pipelinetest.SampleDeliveries(1, 5)
	err := s.Deliver(t.Context(), batch)
	assert.Equal(t, []int{2}, transientIndices(t, err))
	assert.Len(t, p.Requests(), 5)
	assert.Equal(t, wantIDs(batch, []int{2}), p.AcceptedIDs())
}

// TestStrictOrderingStopsAtFirstFailure: with ordering strict (the
// default) the first transient failure stops the batch: the events before
// it are taken, it and every later one are retried, so the peer sees the
// events in journal order (found by the reliability campaign: with
// relaxed ordering a retried event reached the peer after later ones).
func TestStrictOrderingStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	for _, mode := range []httpsink.Mode{httpsink.ModeStructured, httpsink.ModeBatch} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, func(_ *http.Request, _ *received, n int) (int, string) {
				if n == 2 {
					return http.StatusBadGateway, "down"
				}
				return http.StatusOK, ""
			})
			cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
			require.Equal(t, httpsink.OrderingStrict, cfg.Ordering, "strict is the default")
			cfg.URL, cfg.Mode, cfg.MaxEvents = p.URL(), mode, 1
			s := startSink(t, pipeline.NopSettings("collector"), cfg)
			batch := pipelinetest.SampleDeliveries(1, 5)
			err := s.Deliver(t.Context(), batch)
			assert.Equal(t, []int{2, 3, 4}, transientIndices(t, err), "the failed event and every later one are retried")
			assert.Len(t, p.Requests(), 3, "nothing is sent after the failure")
			assert.Equal(t, wantIDs(batch, []int{2, 3, 4}), p.AcceptedIDs())
		})
	}
}

// TestStructuredTransientStops: after a request that got no answer, a
// 429 or a Retry-After, or three transient failures in a row, the rest of
// the batch is not sent: it fails with that error.
func TestStructuredTransientStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, n int) bool // true: answered
		sent   int
		failed []int
	}{
		{"429", func(w http.ResponseWriter, n int) bool {
			if n == 2 {
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
			return false
		}, 3, []int{2, 3, 4, 5}},
		{"Retry-After", func(w http.ResponseWriter, n int) bool {
			if n == 1 {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
			return false
		}, 2, []int{1, 2, 3, 4, 5}},
		{"no answer", func(w http.ResponseWriter, n int) bool {
			if n == 3 {
				time.Sleep(time.Second) // past the sink's timeout
			}
			return false
		}, 4, []int{3, 4, 5}},
		{"three in a row", func(w http.ResponseWriter, n int) bool {
			if n >= 1 && n <= 3 {
				w.WriteHeader(http.StatusInternalServerError)
				return true
			}
			return false
		}, 4, []int{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			n := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				mu.Lock()
				i := n
				n++
				mu.Unlock()
				if !tt.answer(w, i) {
					w.WriteHeader(http.StatusOK)
				}
			}))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			t.Cleanup(srv.Close)
			cfg := (&peer{srv: srv}).config(httpsink.ModeStructured)
			cfg.Timeout = 300 * time.Millisecond
			s := startSink(t, pipeline.NopSettings("collector"), cfg)
			err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 6))
			assert.Equal(t, tt.failed, transientIndices(t, err))
			mu.Lock()
			assert.Equal(t, tt.sent, n, "requests sent")
			mu.Unlock()
		})
	}
}

func TestSplitLimits(t *testing.T) {
	t.Parallel()
	t.Run("max_events", func(t *testing.T) {
		t.Parallel()
		p := newPeer(t, nil)
		cfg := p.config(httpsink.ModeBatch)
		cfg.MaxEvents = 3
		s := startSink(t, pipeline.NopSettings("collector"), cfg)
		batch := pipelinetest.SampleDeliveries(1, 10)
		require.NoError(t, s.Deliver(t.Context(), batch))
		var sizes []int
		for _, r := range p.Requests() {
			sizes = append(sizes, len(r.Events))
		}
		assert.Equal(t, []int{3, 3, 3, 1}, sizes)
		assert.Equal(t, wantIDs(batch, nil), p.AcceptedIDs())
	})
	t.Run("max_bytes", func(t *testing.T) {
		t.Parallel()
		p := newPeer(t, nil)
		cfg := p.config(httpsink.ModeBatch)
		cfg.MaxBytes = 1000
		s := startSink(t, pipeline.NopSettings("collector"), cfg)
		batch := pipelinetest.SampleDeliveries(1, 20)
		big := pipelinetest.SampleDeliveries(21, 1)[0]
		big.Event.Data = make([]byte, 2000)
		batch = append(batch, big)
		require.NoError(t, s.Deliver(t.Context(), batch))
		reqs := p.Requests()
		// Greedy packing over the sizes of the events as sent.
		var sizes, want []int
		for _, r := range reqs {
			var raws []json.RawMessage
			require.NoError(t, json.Unmarshal(r.Body, &raws))
			for _, raw := range raws {
				sizes = append(sizes, len(raw))
			}
		}
		body := 0
		for _, n := range sizes {
			if body == 0 || body+1+n > 1000 {
				want = append(want, 2+n)
				body = 2 + n
				continue
			}
			body += 1 + n
			want[len(want)-1] = body
		}
		var got []int
		for _, r := range reqs {
			got = append(got, len(r.Body))
		}
		assert.Equal(t, want, got, "requests are filled up to max_bytes")
		last := reqs[len(reqs)-1]
		assert.Len(t, last.Events, 1, "an event over max_bytes goes alone")
		assert.Greater(t, len(last.Body), 2000)
		assert.Equal(t, wantIDs(batch, nil), p.AcceptedIDs())
	})
}
