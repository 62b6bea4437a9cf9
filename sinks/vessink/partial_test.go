package vessink_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestPartialTransientFailures (D3): with 5% of requests answered 503
// (each with probability 1/20, fixed seed), Deliver reports exactly the
// events of the failed requests as transient failures; retrying only
// those delivers every event once.
func TestPartialTransientFailures(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(3, 5))
	c := newCollector(t, pki, withAnswer(func(int, *captured) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if rnd.IntN(20) == 0 {
			return 503, "busy"
		}
		return 0, ""
	}))
	cfg := testConfig(c, pki)
	cfg.MaxBatchEvents = 4
	s := startSink(t, pipeline.NopSettings("ves"), cfg)
	var batch []pipeline.Delivery
	for i := range 200 {
		batch = append(batch, delivery(uint64(i+1), "sluice.lb.request", "lb", t0.Add(time.Duration(i)*time.Second),
			pipeline.SeverityInfo, map[string]any{"action": "UPDATE"}))
	}
	byKey := map[string]int{}
	for i, d := range batch {
		byKey[d.Key] = i
	}
	// outcome returns the indices the collector failed and the count it
	// took of each, from the requests since from.
	outcome := func(from int) (failed []int, took map[int]int) {
		took = map[int]int{}
		for _, r := range c.Requests()[from:] {
			for _, e := range r.Events {
				i := byKey[headerOf(t, e).CommonEventHeader.EventID]
				if r.Status == 503 {
					failed = append(failed, i)
				} else {
					took[i]++
				}
			}
		}
		return failed, took
	}

	err := s.Deliver(t.Context(), batch)
	failed, _ := outcome(0)
	require.NotEmpty(t, failed, "the seed fails some requests")
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	var got []int
	for _, f := range be.Failed {
		assert.False(t, pipeline.IsPermanent(f.Err))
		got = append(got, f.Index)
	}
	assert.Equal(t, failed, got, "exactly the events of the failed requests")

	pending := got
	for attempt := 0; len(pending) > 0; attempt++ {
		require.Less(t, attempt, 20)
		var retry []pipeline.Delivery
		for _, i := range pending {
			retry = append(retry, batch[i])
		}
		err := s.Deliver(t.Context(), retry)
		pending = nil
		if errors.As(err, &be) {
			for _, f := range be.Failed {
				pending = append(pending, byKey[retry[f.Index].Key])
			}
		} else if err != nil {
			for _, d := range retry {
				pending = append(pending, byKey[d.Key])
			}
		}
	}
	_, took := outcome(0)
	require.Len(t, took, len(batch), "every event taken")
	for i, n := range took {
		assert.Equal(t, 1, n, "event %d taken once", i)
	}
}
