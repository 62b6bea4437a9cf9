package pipeline_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// handOut is a pipeline.ConsumerReader over a real journal, as a fleet
// router's stream behaves for one process: it hands records out, counts
// their deliveries, takes them back (Redeliver) to hand out again after
// the delay, and records what was settled by a commit (acked) or by a
// dead letter (termed).
type handOut struct {
	*journal.Journal
	redelivers bool

	mu         sync.Mutex
	next       uint64         // the next fresh record
	out        map[uint64]int // handed out, not settled: seq → deliveries
	deliveries map[uint64]int
	back       map[uint64]time.Time // handed back: due at
	delays     map[uint64][]time.Duration
	opened     pipeline.RetryConfig
	acked      []uint64
	termed     []uint64
}

var _ pipeline.ConsumerReader = (*handOut)(nil)

func newHandOut(j *journal.Journal, redelivers bool) *handOut {
	return &handOut{
		Journal: j, redelivers: redelivers, next: 1, out: map[uint64]int{}, deliveries: map[uint64]int{},
		back: map[uint64]time.Time{}, delays: map[uint64][]time.Duration{},
	}
}

func (h *handOut) OpenConsumer(_ context.Context, _ string, retry pipeline.RetryConfig) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opened = retry
	return h.redelivers, nil
}

// ReadConsumer hands out the records handed back that are due, then fresh
// ones, polling the journal (a test double may).
func (h *handOut) ReadConsumer(ctx context.Context, _ string, buf []pipeline.Record, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	for {
		out, err := h.take(ctx, buf[:0], limit)
		if err != nil || len(out) > 0 {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (h *handOut) take(ctx context.Context, out []pipeline.Record, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	for seq, at := range h.back {
		if now.Before(at) {
			continue
		}
		delete(h.back, seq)
		rs, err := h.Read(ctx, seq, pipeline.ReadLimit{MaxRecords: 1})
		if err != nil {
			return nil, err
		}
		out = append(out, h.hand(rs[0]))
	}
	st, err := h.Stats(ctx)
	if err != nil {
		return nil, err
	}
	if st.Last >= h.next {
		rs, err := h.Read(ctx, h.next, limit)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out = append(out, h.hand(r))
			h.next = r.Seq + 1
		}
	}
	slices.SortFunc(out, func(a, b pipeline.Record) int { return int(a.Seq) - int(b.Seq) })
	return out, nil
}

func (h *handOut) hand(r pipeline.Record) pipeline.Record {
	h.deliveries[r.Seq]++
	r.Deliveries = h.deliveries[r.Seq]
	h.out[r.Seq] = r.Deliveries
	return r
}

func (h *handOut) Redeliver(_ context.Context, _ string, seq uint64, delay time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.out[seq]; !ok {
		return nil
	}
	delete(h.out, seq)
	h.back[seq] = time.Now().Add(delay)
	h.delays[seq] = append(h.delays[seq], delay)
	return nil
}

func (h *handOut) CommitCursor(ctx context.Context, consumer string, next uint64, state ...pipeline.StateUpdate) error {
	h.mu.Lock()
	for seq := range h.out {
		if seq < next {
			delete(h.out, seq)
			h.acked = append(h.acked, seq)
		}
	}
	h.mu.Unlock()
	return h.Journal.CommitCursor(ctx, consumer, max(next, 1), state...)
}

func (h *handOut) PutDeadLetters(ctx context.Context, letters []pipeline.DeadLetter) error {
	h.mu.Lock()
	for _, l := range letters {
		if _, ok := h.out[l.Seq]; ok {
			delete(h.out, l.Seq)
			h.termed = append(h.termed, l.Seq)
		}
	}
	h.mu.Unlock()
	return h.Journal.PutDeadLetters(ctx, letters)
}

func (h *handOut) settled() (acked, termed []uint64, outstanding int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(slices.Values(h.acked)), slices.Clone(h.termed), len(h.out) + len(h.back)
}

func (h *handOut) delaysOf(seq uint64) []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.delays[seq])
}

func handOutSpec(retry pipeline.RetryConfig) pipeline.Spec {
	return pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: retry}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	}
}

// A transient failure of a journal that redelivers is handed back with
// the policy's delay for the delivery count (10 ms, then 20 ms), not
// retried in process; the record comes back behind later ones and is
// acked once delivered, and nothing that took effect is sent twice.
func TestConsumerReaderHandsTransientFailuresBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var ho *handOut
	h.wrap = func(j *journal.Journal) pipeline.Journal { ho = newHandOut(j, true); return ho }
	h.sources["in"] = newScriptSource(nil)
	sink := newFlakySink(func(d pipeline.Delivery, attempt int) bool { return d.Event.Sequence == 3 && attempt <= 2 })
	h.sinks["out"] = sink
	retry := pipeline.RetryConfig{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2}
	r := h.start(handOutSpec(retry))
	h.sources["in"].emit(t, events("e", 5)...)
	require.Eventually(t, func() bool {
		acked, _, outstanding := ho.settled()
		return len(acked) == 5 && outstanding == 0
	}, 10*time.Second, time.Millisecond, "every record is acked, the one that failed too")
	acked, termed, _ := ho.settled()
	assert.Equal(t, []uint64{1, 2, 3, 4, 5}, acked)
	assert.Empty(t, termed)
	sends, failures, delivered, duplicates := sink.counts()
	assert.Equal(t, 5, delivered)
	assert.Equal(t, 2, failures)
	assert.Equal(t, 7, sends, "only seq 3 was sent again, once per hand-back")
	assert.Zero(t, duplicates)
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, ho.delaysOf(3),
		"delay = initial × multiplier^(n-1), n the delivery count")
	assert.Equal(t, retry, ho.opened, "the consumer is opened with the sink's retry policy")
	require.NoError(t, r.stop(t))
}

// The last delivery the policy's max_elapsed allows is dead-lettered as
// retries exhausted (and settled by the dead letter), not handed back.
func TestConsumerReaderDeadLettersTheLastDelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var ho *handOut
	h.wrap = func(j *journal.Journal) pipeline.Journal { ho = newHandOut(j, true); return ho }
	h.sources["in"] = newScriptSource(nil)
	sink := newFlakySink(func(d pipeline.Delivery, _ int) bool { return d.Event.Sequence == 2 })
	h.sinks["out"] = sink
	retry := pipeline.RetryConfig{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2, MaxElapsed: 25 * time.Millisecond}
	require.Equal(t, 2, retry.Deliveries())
	r := h.start(handOutSpec(retry))
	h.sources["in"].emit(t, events("e", 3)...)
	letters := waitLetters(t, r.journal, pipeline.DeadLetterFilter{Sink: "out"}, 1)
	assert.Equal(t, uint64(2), letters[0].Seq)
	assert.Equal(t, pipeline.ReasonRetriesExhausted, letters[0].Reason)
	assert.Equal(t, 2, letters[0].Attempts, "attempts are the deliveries")
	require.Eventually(t, func() bool {
		acked, termed, outstanding := ho.settled()
		return len(acked) == 2 && len(termed) == 1 && outstanding == 0
	}, 10*time.Second, time.Millisecond)
	acked, termed, _ := ho.settled()
	assert.Equal(t, []uint64{1, 3}, acked)
	assert.Equal(t, []uint64{2}, termed)
	assert.Len(t, ho.delaysOf(2), 1, "handed back once, after the first delivery")
	require.NoError(t, r.stop(t))
}

// A journal that keeps order (redelivers false: a pinned consumer) gets
// nothing handed back: the consumer retries in process, in order.
func TestConsumerReaderThatKeepsOrderRetriesInProcess(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var ho *handOut
	h.wrap = func(j *journal.Journal) pipeline.Journal { ho = newHandOut(j, false); return ho }
	h.sources["in"] = newScriptSource(nil)
	sink := h.recording("out")
	sink.Script(errors.New("503"), errors.New("503"))
	r := h.start(handOutSpec(fastRetry()))
	h.sources["in"].emit(t, events("e", 4)...)
	got, err := sink.WaitForDeliveries(ctxT(t), 4)
	require.NoError(t, err)
	for i, d := range got {
		assert.Equal(t, uint64(i+1), d.Event.Sequence, "in order")
	}
	require.Eventually(t, func() bool {
		acked, _, outstanding := ho.settled()
		return len(acked) == 4 && outstanding == 0
	}, 10*time.Second, time.Millisecond)
	assert.Empty(t, ho.delaysOf(1), "nothing handed back")
	assert.Equal(t, 3, sink.Calls(), "two failures retried in process, one success")
	require.NoError(t, r.stop(t))
}

func TestRetryConfigDeliveries(t *testing.T) {
	t.Parallel()
	base := pipeline.RetryConfig{Initial: time.Second, Max: 4 * time.Second, Multiplier: 2}
	for _, tc := range []struct {
		elapsed time.Duration
		want    int
	}{
		{0, 0},                      // unlimited
		{500 * time.Millisecond, 1}, // the first wait already passes it
		{time.Second, 2},            // 1s fits
		{3 * time.Second, 3},        // 1+2 fit
		{7 * time.Second, 4},        // 1+2+4
		{11 * time.Second, 5},       // 1+2+4+4 (capped at max)
	} {
		c := base
		c.MaxElapsed = tc.elapsed
		assert.Equal(t, tc.want, c.Deliveries(), "max_elapsed %s", tc.elapsed)
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second},
		[]time.Duration{base.Delay(1), base.Delay(2), base.Delay(3), base.Delay(4)})
}
