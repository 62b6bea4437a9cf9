package pipeline_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// memRun runs a pipeline over a MemoryJournal until the returned stop.
type memRun struct {
	p      *pipeline.Pipeline
	j      *pipelinetest.MemoryJournal
	cancel context.CancelFunc
	done   chan error
}

func startMem(t *testing.T, h *harness, j *pipelinetest.MemoryJournal, spec pipeline.Spec, set pipeline.Settings) *memRun {
	t.Helper()
	p, err := pipeline.New(context.Background(), spec, h.regs, j, set)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &memRun{p: p, j: j, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	require.Eventually(t, p.Ready, 5*time.Second, time.Millisecond)
	t.Cleanup(func() {
		cancel()
		r.done <- <-r.done
	})
	return r
}

func (r *memRun) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("pipeline did not stop")
		return nil
	}
}

// countingStateSink counts its deliveries in its durable state.
type countingStateSink struct {
	*pipelinetest.RecordingSink
	state   pipeline.SinkState
	initial map[string][]byte
}

func (s *countingStateSink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	if err := s.RecordingSink.Deliver(ctx, batch); err != nil {
		return err
	}
	n := 0
	if v, ok := s.state.Get("count"); ok {
		n, _ = strconv.Atoi(string(v))
	}
	s.state.Set("count", []byte(strconv.Itoa(n+len(batch))))
	return nil
}

// The runner loads a sink's state from the journal into Settings.State
// before the factory runs (hiding the runner's own "sluice." keys), and
// commits what the sink changed with the cursor that covers it.
func TestSinkStateLoadedAndCommittedWithTheCursor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := registerCounting(t, h)
	j := pipelinetest.NewMemoryJournal()
	ctx := ctxT(t)
	_, err := j.Append(ctx, pipeline.AppendBatch{Events: []pipeline.Event{{ID: "old", Origin: "other"}}})
	require.NoError(t, err)
	require.NoError(t, j.CommitCursor(ctx, "out", 2,
		pipeline.StateUpdate{Key: "count", Value: []byte("5")},
		pipeline.StateUpdate{Key: pipeline.OrphanedSinceKey, Value: []byte("2020-01-01T00:00:00Z")}))
	r := startMem(t, h, j, pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "counting", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	}, pipeline.NopSettings("test"))
	assert.Equal(t, map[string][]byte{"count": []byte("5")}, (*sink).initial, "loaded before the factory; reserved keys hidden")
	h.sources["in"].emit(t, events("e", 3)...)
	h.sources["in"].emit(t, events("f", 4)...)
	require.Eventually(t, func() bool {
		st, err := j.ConsumerState(ctx, "out")
		c, _ := j.Cursor(ctx, "out")
		return err == nil && string(st["count"]) == "12" && c == 9
	}, 5*time.Second, time.Millisecond, "5 + 7 committed with the cursor past them")
	st, err := j.ConsumerState(ctx, "out")
	require.NoError(t, err)
	assert.NotContains(t, st, pipeline.OrphanedSinceKey, "a configured sink's orphan mark is cleared")
	require.NoError(t, r.stop(t))
}

// The same on the bbolt journal: the state committed with the cursor is
// what the next start hands the sink, and an orphan's mark is stored there.
func TestSinkStateSurvivesARestartOnTheJournal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := registerCounting(t, h)
	spec := pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "counting", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	}
	r := h.start(spec)
	h.sources["in"].emit(t, events("a", 3)...)
	_, err := (*sink).WaitForDeliveries(ctxT(t), 3)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		c, err := r.journal.Cursor(context.Background(), "out")
		return err == nil && c == 4
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, r.stop(t))

	spec.Sinks[0].Name = "renamed" // "out" becomes an orphan
	spec.Routes[0].To = []string{"renamed"}
	r = h.start(spec)
	state, err := r.journal.ConsumerState(context.Background(), "out")
	require.NoError(t, err)
	assert.Equal(t, "3", string(state["count"]))
	assert.Contains(t, state, pipeline.OrphanedSinceKey, "the orphan is marked in its own state")
	require.NoError(t, r.stop(t))

	spec.Sinks[0].Name = "out" // back: resumes with its state, mark cleared
	spec.Routes[0].To = []string{"out"}
	r = h.start(spec)
	assert.Equal(t, map[string][]byte{"count": []byte("3")}, (*sink).initial)
	h.sources["in"].emit(t, events("b", 2)...)
	require.Eventually(t, func() bool {
		st, err := r.journal.ConsumerState(context.Background(), "out")
		return err == nil && string(st["count"]) == "5" && st[pipeline.OrphanedSinceKey] == nil
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, r.stop(t))
}

// registerCounting registers the "counting" sink type; the returned
// pointer is set to the sink each time the factory builds one.
func registerCounting(t *testing.T, h *harness) **countingStateSink {
	t.Helper()
	var sink *countingStateSink
	require.NoError(t, h.regs.Sinks.Register(pipeline.NewSinkFactory("counting", func() *emptyConfig { return &emptyConfig{} },
		func(_ context.Context, set pipeline.Settings, _ *emptyConfig) (pipeline.Sink, error) {
			sink = &countingStateSink{RecordingSink: pipelinetest.NewRecordingSink(), state: set.State, initial: set.State.All()}
			return sink, nil
		})))
	return &sink
}
