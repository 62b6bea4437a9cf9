package pipeline_test

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// flakySink sends each delivery of a batch on its own, as the http sink's
// structured mode does, and fails a delivery transiently when fail says
// so, reporting per-delivery outcomes in a BatchError.
type flakySink struct {
	fail func(d pipeline.Delivery, attempt int) bool

	mu       sync.Mutex
	sends    int            // deliveries handed to Deliver
	failures int            // of those, failed transiently
	effects  map[string]int // deliveries that took effect, by key
	attempts map[string]int
}

func newFlakySink(fail func(pipeline.Delivery, int) bool) *flakySink {
	return &flakySink{fail: fail, effects: map[string]int{}, attempts: map[string]int{}}
}

func (*flakySink) Start(context.Context) error { return nil }
func (*flakySink) Close(context.Context) error { return nil }

func (s *flakySink) Deliver(_ context.Context, batch []pipeline.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var be pipeline.BatchError
	for i, d := range batch {
		s.sends++
		s.attempts[d.Key]++
		if s.fail(d, s.attempts[d.Key]) {
			s.failures++
			be.Failed = append(be.Failed, pipeline.DeliveryFailure{Index: i, Err: errors.New("503 service unavailable")})
			continue
		}
		s.effects[d.Key]++
	}
	if len(be.Failed) > 0 {
		return &be
	}
	return nil
}

func (s *flakySink) counts() (sends, failures, delivered, duplicates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.effects {
		delivered++
		duplicates += n - 1
	}
	return s.sends, s.failures, delivered, duplicates
}

// one in twenty, decided by the key and attempt so that a retry may pass.
func fivePercent(d pipeline.Delivery, attempt int) bool {
	h := fnv.New32a()
	_, _ = h.Write([]byte(d.Key))
	_, _ = h.Write([]byte{byte(attempt)})
	return h.Sum32()%20 == 0
}

// D3: with 5% of deliveries failing transiently, everything is delivered,
// only the failed deliveries are sent again (duplicates bounded by the
// failures: here none take effect twice), and the cursor reaches the
// head. Before, one failure re-sent the whole batch of 256.
func TestPartialBatchFailuresRetryOnlyTheFailed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := newFlakySink(fivePercent)
	h.sinks["out"] = sink
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	})
	const n = 2000
	for i := 0; i < n; i += 500 {
		h.sources["in"].emit(t, events("e", n)[i:i+500]...)
	}
	require.Eventually(t, func() bool {
		next, err := r.journal.Cursor(context.Background(), "out")
		return err == nil && next == n+1
	}, 20*time.Second, 5*time.Millisecond, "the cursor reaches the head")
	sends, failures, delivered, duplicates := sink.counts()
	assert.Equal(t, n, delivered, "everything delivered")
	assert.Positive(t, failures, "some deliveries failed")
	assert.Equal(t, n+failures, sends, "only failed deliveries were sent again")
	assert.Zero(t, duplicates, "nothing that took effect was sent again")
	t.Logf("%d events, %d sends, %d transient failures", n, sends, failures)
	require.NoError(t, r.stop(t))
}

// D3: while a failed delivery is being retried, the cursor moves past the
// delivered prefix, up to the lowest sequence still pending, so that a
// restart does not send what took effect again.
func TestCursorCommitsPastTheDeliveredPrefix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	var mu sync.Mutex
	stuck := true
	sink := newFlakySink(func(d pipeline.Delivery, _ int) bool {
		mu.Lock()
		defer mu.Unlock()
		return stuck && d.Event.Sequence == 7
	})
	h.sinks["out"] = sink
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	})
	h.sources["in"].emit(t, events("e", 20)...)
	require.Eventually(t, func() bool {
		next, err := r.journal.Cursor(context.Background(), "out")
		return err == nil && next == 7
	}, 10*time.Second, time.Millisecond, "the cursor stops at the pending delivery")
	_, _, delivered, _ := sink.counts()
	assert.Equal(t, 19, delivered, "the others took effect")
	mu.Lock()
	stuck = false
	mu.Unlock()
	require.Eventually(t, func() bool {
		next, err := r.journal.Cursor(context.Background(), "out")
		return err == nil && next == 21
	}, 10*time.Second, time.Millisecond)
	_, _, delivered, duplicates := sink.counts()
	assert.Equal(t, 20, delivered)
	assert.Zero(t, duplicates)
	require.NoError(t, r.stop(t))
}

// A BatchError mixing permanent and transient failures dead-letters the
// permanent ones at once and retries only the transient ones.
func TestBatchErrorMixedFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := h.recording("out")
	var calls int
	sink.SetHook(func(_ context.Context, batch []pipeline.Delivery) error {
		calls++
		if calls > 1 {
			return nil
		}
		return &pipeline.BatchError{Failed: []pipeline.DeliveryFailure{
			{Index: 1, Err: pipeline.Permanent(errors.New("400 bad event"))},
			{Index: 3, Err: errors.New("503")},
		}}
	})
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	})
	h.sources["in"].emit(t, events("e", 5)...)
	ctx := ctxT(t)
	got, err := sink.WaitForDeliveries(ctx, 1)
	require.NoError(t, err)
	require.Len(t, got, 1, "the retry carries only the transient failure")
	assert.Equal(t, "e-3", got[0].Event.ID)
	letters := waitLetters(t, r.journal, pipeline.DeadLetterFilter{Sink: "out"}, 1)
	assert.Equal(t, "e-1", letters[0].Event.ID)
	assert.Equal(t, pipeline.ReasonPermanent, letters[0].Reason)
	require.NoError(t, r.stop(t))
}
