package pipeline_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// unavailableJournal is a real journal whose reads and cursor commits fail
// with a transient error (matching pipeline.ErrJournalUnavailable, as
// journal.ErrResources and journal.ErrWriteFailed do) while failures is
// positive.
type unavailableJournal struct {
	*journal.Journal
	readFailures   atomic.Int32
	commitFailures atomic.Int32
}

func (j *unavailableJournal) Read(ctx context.Context, from uint64, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	if j.readFailures.Add(-1) >= 0 {
		return nil, fmt.Errorf("open segment: %w", journal.ErrResources)
	}
	return j.Journal.Read(ctx, from, limit)
}

// ReadInto fails like Read: the consumer reads through it (an embedded
// *journal.Journal would answer it, bypassing Read).
func (j *unavailableJournal) ReadInto(ctx context.Context, buf []pipeline.Record, from uint64, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	if j.readFailures.Add(-1) >= 0 {
		return nil, fmt.Errorf("open segment: %w", journal.ErrResources)
	}
	return j.Journal.ReadInto(ctx, buf, from, limit)
}

func (j *unavailableJournal) CommitCursor(ctx context.Context, consumer string, next uint64, state ...pipeline.StateUpdate) error {
	if j.commitFailures.Add(-1) >= 0 {
		return fmt.Errorf("commit: %w", journal.ErrWriteFailed)
	}
	return j.Journal.CommitCursor(ctx, consumer, next, state...)
}

// TestJournalUnavailableDelaysSink: a transient journal error on a sink's
// read or cursor commit (too many open files, a segment being reopened
// after a failed fsync) makes the sink wait and try again; it used to end
// the whole run.
func TestJournalUnavailableDelaysSink(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, journal.ErrResources, pipeline.ErrJournalUnavailable)
	require.ErrorIs(t, journal.ErrWriteFailed, pipeline.ErrJournalUnavailable)
	require.NotErrorIs(t, journal.ErrCorrupt, pipeline.ErrJournalUnavailable)

	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := h.recording("out")
	inner, err := journal.Open(h.dir, journal.Options{CursorFlushInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	j := &unavailableJournal{Journal: inner}
	j.readFailures.Store(3)
	j.commitFailures.Store(3)
	p, err := pipeline.New(context.Background(), pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	}, h.regs, j, pipeline.NopSettings("test"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, p.Ready, 5*time.Second, time.Millisecond)

	h.sources["in"].emit(t, events("e", 5)...)
	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	_, err = sink.WaitForDeliveries(wait, 5)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		next, err := inner.Cursor(context.Background(), "out")
		return err == nil && next == 6
	}, 10*time.Second, 5*time.Millisecond, "the cursor is committed once the journal is back")
	select {
	case err := <-done:
		t.Fatalf("run ended on a transient journal error: %v", err)
	default:
	}
	require.Negative(t, j.readFailures.Load(), "the reads failed first")
	require.Negative(t, j.commitFailures.Load(), "the commits failed first")
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, inner.Close(context.Background()))
}
