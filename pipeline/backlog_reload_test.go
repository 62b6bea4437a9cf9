package pipeline_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// idleSource emits nothing.
type idleSource struct{}

func (idleSource) Run(ctx context.Context, _ pipeline.SourceHost) error {
	<-ctx.Done()
	return nil
}

// TestReloadedSinkKeepsBacklogPastRetention: a sink added by Reload
// (start_at oldest) on a journal holding more than its size limit has its
// cursor registered before the reload starts the new source, so that the
// source's first append, which makes retention check the limit, cannot
// remove the backlog the sink starts at (it used to race with the sink's
// consumer). The running sink starts at newest and so pins nothing.
func TestReloadedSinkKeepsBacklogPastRetention(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fillBacklog(t, h.dir)

	inner, err := journal.Open(h.dir, journal.Options{SegmentMaxBytes: 32 << 10, RetentionMaxBytes: 96 << 10,
		RetentionInterval: time.Hour, CursorFlushInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	defer inner.Close(context.Background())
	st, err := inner.Stats(context.Background())
	require.NoError(t, err)
	require.Greater(t, st.Bytes, int64(96<<10), "the backlog exceeds the limit")
	j := &orderJournal{Journal: inner}
	h.recording("old")
	sink := h.recording("new")
	require.NoError(t, h.regs.Sources.Register(pipeline.NewSourceFactory("idle", func() *emptyConfig { return &emptyConfig{} },
		func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) {
			return idleSource{}, nil
		})))
	require.NoError(t, h.regs.Sources.Register(pipeline.NewSourceFactory("emitter", func() *emptyConfig { return &emptyConfig{} },
		func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) {
			return startEmitter{}, nil
		})))
	spec := pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "idle", Config: &emptyConfig{}}},
		Sinks: []pipeline.SinkSpec{{Name: "old", Type: "recording", Config: &emptyConfig{},
			StartAt: pipeline.StartAt{Newest: true}}},
		Routes: []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"old"}}},
	}
	p, err := pipeline.New(context.Background(), spec, h.regs, j, pipeline.NopSettings("test"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	require.Eventually(t, p.Ready, 30*time.Second, time.Millisecond)

	next := spec
	next.Sources = append(slices.Clone(spec.Sources), pipeline.SourceSpec{Name: "in2", Type: "emitter", Config: &emptyConfig{}})
	next.Sinks = append(slices.Clone(spec.Sinks), pipeline.SinkSpec{Name: "new", Type: "recording", Config: &emptyConfig{}})
	next.Routes = append(slices.Clone(spec.Routes), pipeline.RouteSpec{Name: "r2", From: []string{"in", "in2"}, To: []string{"new"}})
	rep, err := p.Reload(ctx, next, h.regs)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"sink new", "source in2"}, rep.Added)

	var got []pipeline.Delivery
	require.Eventually(t, func() bool {
		got = sink.Deliveries()
		return len(got) > 0 && got[len(got)-1].Event.Sequence >= st.Last
	}, 30*time.Second, 5*time.Millisecond, "the added sink reaches the end of the backlog")
	assert.Equal(t, uint64(1), got[0].Event.Sequence, "the added sink starts at the oldest record of the backlog")
	assert.Len(t, got, int(st.Last), "deliveries")
	j.mu.Lock()
	log := slices.Clone(j.log)
	j.mu.Unlock()
	require.Contains(t, log, "append")
	assert.Less(t, slices.Index(log, "register new"), slices.Index(log, "append"), "order: %v", log)
}
