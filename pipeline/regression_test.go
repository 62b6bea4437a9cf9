package pipeline_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// An idle period before a failure must not count against MaxElapsed: the
// first failure of a batch is retried, not dead-lettered at once.
func TestMaxElapsedCountsFromTheBatchNotTheLastSuccess(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := h.recording("out")
	retry := fastRetry()
	retry.MaxElapsed = 200 * time.Millisecond
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: retry}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.sources["in"].emit(t, pipeline.Event{ID: "a", Type: "t"})
	_, err := sink.WaitForDeliveries(ctx, 1)
	require.NoError(t, err)
	time.Sleep(400 * time.Millisecond) // idle longer than MaxElapsed
	sink.Script(errors.New("503"))
	h.sources["in"].emit(t, pipeline.Event{ID: "b", Type: "t"})
	got, err := sink.WaitForDeliveries(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, "b", got[1].Event.ID, "retried and delivered, not dead-lettered")
	require.NoError(t, r.stop(t))
}

// failingJournal makes Read fail once armed, as a damaged record would.
// It embeds the port, not *journal.Journal, so it is no
// pipeline.BufferedReader: the consumer reads through Read.
type failingJournal struct {
	pipeline.Journal
	armed atomic.Bool
}

func (f *failingJournal) Read(ctx context.Context, from uint64, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	if f.armed.Load() {
		return nil, errors.New("crc mismatch")
	}
	return f.Journal.Read(ctx, from, limit)
}

// A consumer that fails stops the pipeline (sources first) instead of
// leaving its sink silently stalled while the engine reports ready.
func TestConsumerFailureStopsThePipeline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := newScriptSource(nil)
	h.sources["in"] = src
	h.recording("out")
	j, err := journal.Open(h.dir, journal.Options{})
	require.NoError(t, err)
	defer j.Close(context.Background())
	fj := &failingJournal{Journal: j}
	p, err := pipeline.New(context.Background(), pipeline.Spec{
		Sources:         []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:           []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes:          []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
		ShutdownTimeout: 5 * time.Second,
	}, h.regs, fj, pipeline.NopSettings("test"))
	require.NoError(t, err)
	done := make(chan error, 1)
	fj.armed.Store(true)
	start := time.Now()
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		require.ErrorContains(t, err, "crc mismatch")
		require.Less(t, time.Since(start), 4*time.Second, "stops promptly, not at the shutdown deadline")
	case <-time.After(10 * time.Second):
		t.Fatal("the pipeline kept running with a failed consumer")
	}
}

// switchable fails to transform until fixed.
type switchable struct{ fixed atomic.Bool }

func (s *switchable) Transform(e pipeline.Event) (pipeline.Event, error) {
	if !s.fixed.Load() {
		return e, errors.New("template: missing key")
	}
	e.Subject = "fixed"
	return e, nil
}

// Redriving a letter its route rejected runs the route again, so a fixed
// transform applies.
func TestRedriveOfRejectedEventRoutesAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := h.recording("out")
	tr := &switchable{}
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}, Transform: tr}},
	})
	h.sources["in"].emit(t, pipeline.Event{ID: "x", Type: "t", Subject: "raw"})
	ctx := context.Background()
	require.Eventually(t, func() bool {
		n := 0
		_ = r.journal.DeadLetters(ctx, pipeline.DeadLetterFilter{Sink: "out"}, func(pipeline.DeadLetter) error { n++; return nil })
		return n == 1
	}, 5*time.Second, time.Millisecond)
	tr.fixed.Store(true)
	n, err := r.journal.RequestRedrive(ctx, pipeline.DeadLetterFilter{Sink: "out"})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := sink.WaitForDeliveries(wctx, 1)
	require.NoError(t, err)
	require.Equal(t, "fixed", got[0].Event.Subject, "the route's transform ran again")
	require.Eventually(t, func() bool {
		left := 0
		_ = r.journal.DeadLetters(ctx, pipeline.DeadLetterFilter{Sink: "out"}, func(pipeline.DeadLetter) error { left++; return nil })
		return left == 0
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, r.stop(t))
}
