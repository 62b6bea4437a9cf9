package pipeline_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// orderJournal notes cursor registrations and appends in order, and makes
// Stats slow, as on a loaded machine.
type orderJournal struct {
	pipeline.Journal
	mu  sync.Mutex
	log []string
}

func (j *orderJournal) note(s string) {
	j.mu.Lock()
	j.log = append(j.log, s)
	j.mu.Unlock()
}

func (j *orderJournal) Stats(ctx context.Context) (pipeline.JournalStats, error) {
	time.Sleep(50 * time.Millisecond)
	return j.Journal.Stats(ctx)
}

func (j *orderJournal) Cursor(ctx context.Context, consumer string) (uint64, error) {
	j.note("register " + consumer)
	return j.Journal.Cursor(ctx, consumer)
}

func (j *orderJournal) Append(ctx context.Context, b pipeline.AppendBatch) (pipeline.AppendResult, error) {
	j.note("append")
	return j.Journal.Append(ctx, b)
}

// startEmitter tries to emit one event as soon as it runs (a full
// journal refuses it: that is not its concern).
type startEmitter struct{}

func (startEmitter) Run(ctx context.Context, host pipeline.SourceHost) error {
	_, _ = host.Emit(ctx, []pipeline.Event{{ID: "live", Type: "t", Source: "/s"}})
	<-ctx.Done()
	return nil
}

// fillBacklog appends 400 records of about 100 bytes to the journal in
// dir, in 32 KiB segments: more than the 96 KiB size limit the backlog
// tests then open it with.
func fillBacklog(t *testing.T, dir string) {
	t.Helper()
	fill, err := journal.Open(dir, journal.Options{SegmentMaxBytes: 32 << 10})
	require.NoError(t, err)
	for range 40 {
		events := slices.Repeat([]pipeline.Event{{Type: "t", Source: "/s", Origin: "in", Data: make([]byte, 100)}}, 10)
		_, err := fill.Append(context.Background(), pipeline.AppendBatch{Events: events})
		require.NoError(t, err)
	}
	require.NoError(t, fill.Close(context.Background()))
}

// TestNewSinkKeepsBacklogPastRetention: a new sink (start_at oldest) on a
// journal holding more than its size limit registers its cursor before
// any source runs, so the append that makes retention check the limit
// cannot remove the backlog the sink starts at (it used to race with the
// sink's consumer). The sink receives the whole backlog from 1; the
// journal, full, refuses the live event until the sink has moved on.
func TestNewSinkKeepsBacklogPastRetention(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fillBacklog(t, h.dir)

	inner, err := journal.Open(h.dir, journal.Options{SegmentMaxBytes: 32 << 10, RetentionMaxBytes: 96 << 10,
		CursorFlushInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	defer inner.Close(context.Background())
	st, err := inner.Stats(context.Background())
	require.NoError(t, err)
	require.Greater(t, st.Bytes, int64(96<<10), "the backlog exceeds the limit")
	j := &orderJournal{Journal: inner}
	sink := h.recording("out")
	require.NoError(t, h.regs.Sources.Register(pipeline.NewSourceFactory("emitter", func() *emptyConfig { return &emptyConfig{} },
		func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) {
			return startEmitter{}, nil
		})))
	p, err := pipeline.New(context.Background(), pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "emitter", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	}, h.regs, j, pipeline.NopSettings("test"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	var got []pipeline.Delivery
	require.Eventually(t, func() bool {
		got = sink.Deliveries()
		return len(got) > 0 && got[len(got)-1].Event.Sequence >= st.Last
	}, 30*time.Second, 5*time.Millisecond, "the sink reaches the end of the backlog")
	assert.Equal(t, uint64(1), got[0].Event.Sequence, "the sink starts at the oldest record of the backlog")
	assert.Len(t, got, int(st.Last), "deliveries")
	j.mu.Lock()
	log := slices.Clone(j.log)
	j.mu.Unlock()
	require.Contains(t, log, "append")
	assert.Less(t, slices.Index(log, "register out"), slices.Index(log, "append"), "order: %v", log)
}
