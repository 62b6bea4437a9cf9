package httpsink_test

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// flaky answers 503 to 5% of requests (each with probability 1/20, from a
// fixed seed) and records the event IDs of the requests it failed.
type flaky struct {
	mu     sync.Mutex
	rnd    *rand.Rand
	failed map[string]int // event ID: requests failed
	n      int
}

func newFlaky() *flaky {
	return &flaky{rnd: rand.New(rand.NewPCG(7, 11)), failed: map[string]int{}}
}

func (f *flaky) answer(_ *http.Request, rec *received, n int) (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n%20 != f.rnd.IntN(20) {
		return http.StatusOK, ""
	}
	f.n++
	for _, e := range rec.Events {
		f.failed[e.ID]++
	}
	return http.StatusServiceUnavailable, "busy"
}

// TestPartialTransientFailures (D3): with 5% of requests answered 503,
// Deliver reports exactly the events of the failed requests, as
// transient failures; a runner that retries only those delivers every
// event, and the requests sent exceed the events by at most the failed
// requests (nothing taken is sent again).
func TestPartialTransientFailures(t *testing.T) {
	t.Parallel()
	for _, mode := range []httpsink.Mode{httpsink.ModeStructured, httpsink.ModeBatch} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := newFlaky()
			p := newPeer(t, f.answer)
			cfg := p.config(mode)
			cfg.MaxEvents = 4
			s := startSink(t, pipeline.NopSettings("collector"), cfg)
			batch := pipelinetest.SampleDeliveries(1, 256)

			err := s.Deliver(t.Context(), batch)
			f.mu.Lock()
			var want []int
			for i, d := range batch {
				if f.failed[d.Event.ID] > 0 {
					want = append(want, i)
				}
			}
			firstFailures := f.n
			f.mu.Unlock()
			require.NotEmpty(t, want, "the seed fails some requests")
			assert.Equal(t, want, transientIndices(t, err), "exactly the events of the failed requests")

			pending := retried(t, batch, err)
			for attempt := 0; len(pending) > 0; attempt++ {
				require.Less(t, attempt, 20, "the rest is delivered in a few attempts")
				if err := s.Deliver(t.Context(), pending); err != nil {
					pending = retried(t, pending, err)
				} else {
					pending = nil
				}
			}
			assert.ElementsMatch(t, wantIDs(batch, nil), p.AcceptedIDs(), "every event taken exactly once")
			f.mu.Lock()
			failedRequests := f.n
			f.mu.Unlock()
			assert.Positive(t, firstFailures)
			events := 0
			for _, r := range p.Requests() {
				events += len(r.Events)
			}
			maxPerRequest := 1
			if mode == httpsink.ModeBatch {
				maxPerRequest = cfg.MaxEvents
			}
			assert.LessOrEqual(t, events, len(batch)+failedRequests*maxPerRequest,
				"events sent beyond the batch come only from failed requests")
		})
	}
}
