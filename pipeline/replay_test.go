package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// replaySpec routes alerts (transformed) and infos from "in" to "out",
// and everything from "in" to "other".
func replaySpec() pipeline.Spec {
	return pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks: []pipeline.SinkSpec{
			{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry(), Batch: pipeline.BatchConfig{MaxEvents: 7, MaxBytes: 1 << 20}},
			{Name: "other", Type: "recording", Config: &emptyConfig{}},
		},
		Routes: []pipeline.RouteSpec{
			{Name: "alerts", From: []string{"in"}, To: []string{"out"}, Match: typeMatcher{"alert"}, Transform: subjectSetter{"paged"},
				OnError: pipeline.OnErrorDeadLetter},
			{Name: "rest", From: []string{"in"}, To: []string{"out", "other"}, Match: typeMatcher{"info"}, OnError: pipeline.OnErrorDeadLetter},
		},
	}
}

// replayEvents are 60 events: 20 alerts, 20 infos, 10 others and 10
// match failures (type boom).
func replayEvents() []pipeline.Event {
	types := []string{"alert", "info", "other", "info", "boom", "alert"}
	out := make([]pipeline.Event, 60)
	for i := range out {
		out[i] = pipeline.Event{ID: fmt.Sprintf("e-%d", i), Source: fmt.Sprintf("/src/%d", i%2), Type: types[i%len(types)], Data: []byte(`{}`)}
	}
	return out
}

// liveThenStopped runs the pipeline until "out" has every delivery, stops
// it, and returns what "out" received live.
func liveThenStopped(t *testing.T, h *harness) []pipeline.Delivery {
	t.Helper()
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("out")
	h.recording("other")
	r := h.start(replaySpec())
	evs := replayEvents()
	for i := 0; i < len(evs); i += 20 {
		h.sources["in"].emit(t, evs[i:i+20]...)
	}
	_, err := out.WaitForDeliveries(ctxT(t), 40)
	require.NoError(t, err)
	require.NoError(t, r.stop(t))
	return out.Deliveries()
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openReadOnly(t *testing.T, dir string) *journal.Journal {
	t.Helper()
	j, err := journal.Open(dir, journal.Options{ReadOnly: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	return j
}

func keysOf(ds []pipeline.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = fmt.Sprintf("%d %s %s %s %s", d.Event.Sequence, d.Event.ID, d.Key, d.Route, d.Event.Subject)
	}
	return out
}

func TestReplayDeliversWhatLiveDelivered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	live := liveThenStopped(t, h)
	require.Len(t, live, 40)
	j := openReadOnly(t, h.dir)
	cursorsBefore, err := j.Stats(ctxT(t))
	require.NoError(t, err)

	replayed := h.recording("out")
	rep, err := pipeline.Replay(ctxT(t), replaySpec(), h.regs, j, pipeline.NopSettings("test"), pipeline.ReplayOptions{Sink: "out", From: 1, To: 0})
	require.NoError(t, err)
	assert.Equal(t, keysOf(live), keysOf(replayed.Deliveries()), "same events, keys, routes and transforms")
	assert.Equal(t, uint64(60), rep.Scanned)
	assert.Equal(t, uint64(40), rep.Selected)
	assert.Equal(t, uint64(40), rep.Delivered)
	assert.Equal(t, uint64(10), rep.Rejected, "the match failures")
	assert.Equal(t, uint64(61), rep.Next)
	assert.Equal(t, 1, replayed.Started())
	assert.Equal(t, 1, replayed.Closed())
	assert.Greater(t, replayed.Calls(), 4, "delivered in batches of the sink's size")
	cursorsAfter, err := j.Stats(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, cursorsBefore.Cursors, cursorsAfter.Cursors, "replay never moves a cursor")
}

func TestReplayDryRunEqualsRealReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	liveThenStopped(t, h)
	j := openReadOnly(t, h.dir)
	for _, opts := range []pipeline.ReplayOptions{
		{Sink: "out", From: 1, To: 60},
		{Sink: "out", From: 10, To: 40},
		{Sink: "out", From: 1, To: 60, Route: "rest"},
		{Sink: "out", From: 1, To: 60, Match: typeMatcher{"alert"}},
		{Sink: "other", From: 5, To: 5},
	} {
		t.Run(fmt.Sprintf("%s %d-%d %s", opts.Sink, opts.From, opts.To, opts.Route), func(t *testing.T) {
			dry := opts
			dry.DryRun = true
			dryRep, err := pipeline.Replay(ctxT(t), replaySpec(), h.regs, j, pipeline.NopSettings("test"), dry)
			require.NoError(t, err)
			sink := pipelinetest.NewRecordingSink()
			regs := registriesWith(t, h, opts.Sink, sink)
			rep, err := pipeline.Replay(ctxT(t), replaySpec(), regs, j, pipeline.NopSettings("test"), opts)
			require.NoError(t, err)
			got := sink.Deliveries()
			assert.Zero(t, dryRep.Delivered, "a dry run sends nothing")
			assert.Equal(t, rep.Selected, dryRep.Selected)
			assert.Equal(t, uint64(len(got)), rep.Delivered)
			assert.Equal(t, rep.ByType, dryRep.ByType)
			assert.Equal(t, rep.BySource, dryRep.BySource)
			assert.Equal(t, rep.First, dryRep.First)
			assert.Equal(t, rep.Last, dryRep.Last)
			n := min(len(got), pipeline.DefaultReplaySample)
			assert.Equal(t, keysOf(got[:n]), keysOf(dryRep.Sample))
			if len(got) > 0 {
				assert.Equal(t, keysOf(got[:1]), keysOf([]pipeline.Delivery{*dryRep.First}))
				assert.Equal(t, keysOf(got[len(got)-1:]), keysOf([]pipeline.Delivery{*dryRep.Last}))
			}
			for _, d := range got {
				assert.GreaterOrEqual(t, d.Event.Sequence, opts.From)
				assert.LessOrEqual(t, d.Event.Sequence, opts.To)
				if opts.Route != "" {
					assert.Equal(t, opts.Route, d.Route)
				}
			}
		})
	}
}

// registriesWith returns registries whose "recording" sink named name is
// sink, without touching the harness's map (subtests may run together).
func registriesWith(t *testing.T, h *harness, name string, sink pipeline.Sink) pipeline.Registries {
	t.Helper()
	snk, err := pipeline.NewRegistry(pipeline.NewSinkFactory("recording", func() *emptyConfig { return &emptyConfig{} },
		func(_ context.Context, set pipeline.Settings, _ *emptyConfig) (pipeline.Sink, error) {
			if set.ID != name {
				return nil, errors.New("unexpected sink " + set.ID)
			}
			return sink, nil
		}))
	require.NoError(t, err)
	return pipeline.Registries{Sources: h.regs.Sources, Sinks: snk}
}

func TestReplayWhileRunningLeavesTheLiveSinkAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	live := h.recording("out")
	h.recording("other")
	r := h.start(replaySpec())
	h.sources["in"].emit(t, replayEvents()...)
	_, err := live.WaitForDeliveries(ctxT(t), 40)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		c, err := r.journal.Cursor(ctxT(t), "out")
		return err == nil && c == 61
	}, 5*time.Second, time.Millisecond)

	replayed := pipelinetest.NewRecordingSink()
	rep, err := pipeline.Replay(ctxT(t), replaySpec(), registriesWith(t, h, "out", replayed), r.journal,
		pipeline.NopSettings("test"), pipeline.ReplayOptions{Sink: "out", From: 1, To: 20})
	require.NoError(t, err)
	assert.Equal(t, uint64(14), rep.Delivered)
	assert.Len(t, replayed.Deliveries(), 14, "a new sink instance gets the replay")
	assert.Len(t, live.Deliveries(), 40, "the live instance gets nothing more")
	c, err := r.journal.Cursor(ctxT(t), "out")
	require.NoError(t, err)
	assert.Equal(t, uint64(61), c, "the live cursor does not move")
	require.NoError(t, r.stop(t))
}

func TestReplayFailuresAreCountedNotDeadLettered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	liveThenStopped(t, h)
	j := openReadOnly(t, h.dir)
	letters := func() int {
		n := 0
		require.NoError(t, j.DeadLetters(ctxT(t), pipeline.DeadLetterFilter{}, func(pipeline.DeadLetter) error { n++; return nil }))
		return n
	}
	before := letters()
	sink := pipelinetest.NewRecordingSink()
	sink.SetError(pipeline.Permanent(errors.New("rejected by peer")))
	rep, err := pipeline.Replay(ctxT(t), replaySpec(), registriesWith(t, h, "out", sink), j, pipeline.NopSettings("test"),
		pipeline.ReplayOptions{Sink: "out", From: 1, To: 12})
	require.NoError(t, err)
	assert.Equal(t, uint64(8), rep.Failed)
	assert.Zero(t, rep.Delivered)
	require.NotEmpty(t, rep.Errors)
	assert.Contains(t, rep.Errors[len(rep.Errors)-1], "rejected by peer")
	assert.Equal(t, before, letters(), "replay writes no dead letters")
}

func TestReplayRate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	liveThenStopped(t, h)
	j := openReadOnly(t, h.dir)
	sink := pipelinetest.NewRecordingSink()
	start := time.Now()
	var progress []pipeline.ReplayProgress
	rep, err := pipeline.Replay(ctxT(t), replaySpec(), registriesWith(t, h, "out", sink), j, pipeline.NopSettings("test"),
		pipeline.ReplayOptions{Sink: "out", From: 1, To: 60, Rate: 50, ProgressInterval: 100 * time.Millisecond,
			Progress: func(p pipeline.ReplayProgress) { progress = append(progress, p) }})
	require.NoError(t, err)
	assert.Equal(t, uint64(40), rep.Delivered)
	// A burst of at most one batch (7), then 33 more at 50/s.
	assert.GreaterOrEqual(t, time.Since(start), 600*time.Millisecond)
	require.GreaterOrEqual(t, len(progress), 2, "periodic progress and a final report")
	assert.Equal(t, uint64(61), progress[len(progress)-1].Next)
	for _, b := range sink.Batches() {
		assert.LessOrEqual(t, len(b), 7)
	}
}

func TestReplayInterrupted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	liveThenStopped(t, h)
	j := openReadOnly(t, h.dir)
	sink := pipelinetest.NewRecordingSink()
	ctx, cancel := context.WithCancel(ctxT(t))
	sink.SetHook(func(_ context.Context, batch []pipeline.Delivery) error {
		if batch[0].Event.Sequence > 20 {
			cancel()
			return context.Canceled
		}
		return nil
	})
	rep, err := pipeline.Replay(ctx, replaySpec(), registriesWith(t, h, "out", sink), j, pipeline.NopSettings("test"),
		pipeline.ReplayOptions{Sink: "out", From: 1, To: 60})
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, rep.Interrupted)
	assert.Greater(t, rep.Next, uint64(1))
	assert.LessOrEqual(t, rep.Next, uint64(30))
	assert.Equal(t, 1, sink.Closed(), "the sink is closed after an interruption")
}

func TestReplayRejectsUnknownNames(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	liveThenStopped(t, h)
	j := openReadOnly(t, h.dir)
	_, err := pipeline.Replay(ctxT(t), replaySpec(), h.regs, j, pipeline.NopSettings("test"), pipeline.ReplayOptions{Sink: "nope"})
	require.ErrorIs(t, err, pipeline.ErrUnknownSink)
	_, err = pipeline.Replay(ctxT(t), replaySpec(), h.regs, j, pipeline.NopSettings("test"), pipeline.ReplayOptions{Sink: "other", Route: "alerts"})
	require.ErrorIs(t, err, pipeline.ErrUnknownRoute)
}
