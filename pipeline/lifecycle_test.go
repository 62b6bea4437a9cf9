package pipeline_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

func oneRoute(sinks ...string) pipeline.Spec {
	spec := pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: sinks}},
	}
	for _, s := range sinks {
		spec.Sinks = append(spec.Sinks, pipeline.SinkSpec{Name: s, Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()})
	}
	return spec
}

// New closes the sinks it built when a later one fails.
func TestNewClosesBuiltSinksOnFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	a := h.recording("a")
	spec := oneRoute("a")
	spec.Sinks = append(spec.Sinks, pipeline.SinkSpec{Name: "b", Type: "nope", Config: &emptyConfig{}})
	_, err := pipeline.New(context.Background(), spec, h.regs, pipelinetest.NewMemoryJournal(), pipeline.NopSettings("test"))
	require.ErrorIs(t, err, pipeline.ErrUnknownType)
	assert.Equal(t, 1, a.Closed(), "the sink built before the failure was closed")
}

// panicSource panics in Run.
type panicSource struct{}

func (panicSource) Run(context.Context, pipeline.SourceHost) error { panic("source bug") }

// panicStartSink panics in Start.
type panicStartSink struct{ *pipelinetest.RecordingSink }

func (panicStartSink) Start(context.Context) error { panic("start bug") }

// A panic in a source's Run or a sink's Start is an error of that
// component returned by Run, never a crash of the engine.
func TestPanicsBecomeComponentErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		set  func(h *harness)
		want string
	}{
		{"source run", func(h *harness) {
			require.NoError(t, h.regs.Sources.Register(pipeline.NewSourceFactory("panic", func() *emptyConfig { return &emptyConfig{} },
				func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) {
					return panicSource{}, nil
				})))
		}, "source in run panicked: source bug"},
		{"sink start", func(h *harness) {
			h.sinks["out"] = panicStartSink{pipelinetest.NewRecordingSink()}
		}, "sink out start panicked: start bug"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.sources["in"] = newScriptSource(nil)
			h.recording("out")
			tt.set(h)
			spec := oneRoute("out")
			if tt.name == "source run" {
				spec.Sources[0].Type = "panic"
			}
			p, err := pipeline.New(context.Background(), spec, h.regs, pipelinetest.NewMemoryJournal(), pipeline.NopSettings("test"))
			require.NoError(t, err)
			err = p.Run(context.Background())
			require.ErrorIs(t, err, pipeline.ErrPanic)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// A panic in Deliver dead-letters the batch as a permanent failure.
func TestDeliverPanicIsPermanent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("out")
	out.SetHook(func(_ context.Context, b []pipeline.Delivery) error {
		if b[0].Event.ID == "bad" {
			panic("encoder bug")
		}
		return nil
	})
	j := pipelinetest.NewMemoryJournal()
	r := startMem(t, h, j, oneRoute("out"), pipeline.NopSettings("test"))
	h.sources["in"].emit(t, pipeline.Event{ID: "bad", Type: "t"})
	letters := waitLetters(t, j, pipeline.DeadLetterFilter{}, 1)
	h.sources["in"].emit(t, pipeline.Event{ID: "good", Type: "t"})
	got, err := out.WaitForDeliveries(ctxT(t), 1)
	require.NoError(t, err)
	assert.Equal(t, "good", got[0].Event.ID, "the sink goes on")
	assert.Contains(t, letters[0].LastError, "sink out deliver panicked: encoder bug")
	require.NoError(t, r.stop(t))
}

// Past the shutdown deadline, Run cancels what still runs and names what
// did not return (here a Deliver that ignores its ctx) instead of hanging
// or silently leaving it behind.
func TestRunNamesWhatItAbandons(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("stuck")
	h.recording("fine")
	release := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	out.SetHook(func(context.Context, []pipeline.Delivery) error {
		once.Do(func() { close(entered) })
		<-release // ignores ctx
		return nil
	})
	t.Cleanup(func() { close(release) })
	spec := oneRoute("stuck", "fine")
	spec.ShutdownTimeout = 200 * time.Millisecond
	r := startMem(t, h, pipelinetest.NewMemoryJournal(), spec, pipeline.NopSettings("test"))
	h.sources["in"].emit(t, pipeline.Event{ID: "x", Type: "t"})
	<-entered
	start := time.Now()
	err := r.stop(t)
	require.ErrorIs(t, err, pipeline.ErrShutdownTimeout)
	require.ErrorContains(t, err, "abandoned sink stuck")
	assert.NotContains(t, err.Error(), "sink fine")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, 1, h.sinks["fine"].(*pipelinetest.RecordingSink).Closed(), "sinks that stopped are closed")
	assert.Zero(t, out.Closed(), "a sink still in Deliver is not closed under it")
}

// One sink's consumer can be stopped and started again on its own while
// the rest runs; it resumes from its cursor. Sources likewise.
func TestComponentsRestartAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := newScriptSource(nil)
	h.sources["in"] = src
	a, b := h.recording("a"), h.recording("b")
	j := pipelinetest.NewMemoryJournal()
	r := startMem(t, h, j, oneRoute("a", "b"), pipeline.NopSettings("test"))
	ctx := ctxT(t)
	src.emit(t, events("one", 2)...)
	_, err := a.WaitForDeliveries(ctx, 2)
	require.NoError(t, err)

	require.NoError(t, r.p.StopConsumer(ctx, "a"))
	require.ErrorIs(t, r.p.StartConsumer("nope"), pipeline.ErrNoComponent)
	src.emit(t, events("two", 3)...)
	_, err = b.WaitForDeliveries(ctx, 5)
	require.NoError(t, err, "the other sink goes on")
	assert.Len(t, a.Deliveries(), 2, "the stopped consumer delivers nothing")
	require.NoError(t, r.p.StartConsumer("a"))
	require.ErrorIs(t, r.p.StartConsumer("a"), pipeline.ErrUnitRunning)
	got, err := a.WaitForDeliveries(ctx, 5)
	require.NoError(t, err, "resumed from its cursor")
	assert.Equal(t, "two-0", got[2].Event.ID)

	require.NoError(t, r.p.StopSource(ctx, "in"))
	require.NoError(t, r.p.StartSource("in"))
	src.emit(t, events("three", 1)...)
	_, err = b.WaitForDeliveries(ctx, 6)
	require.NoError(t, err)
	require.NoError(t, r.stop(t))
	assert.Equal(t, 1, a.Started(), "the sink itself was not restarted")
}

// WithSinkStopped lets an operator rewind a running sink's cursor: the
// consumer resumes from the new position instead of committing over it.
func TestWithSinkStoppedRewindsARunningSink(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := newScriptSource(nil)
	h.sources["in"] = src
	out := h.recording("out")
	j := pipelinetest.NewMemoryJournal()
	r := startMem(t, h, j, oneRoute("out"), pipeline.NopSettings("test"))
	ctx := ctxT(t)
	src.emit(t, events("e", 4)...)
	_, err := out.WaitForDeliveries(ctx, 4)
	require.NoError(t, err)
	require.NoError(t, r.p.WithSinkStopped(ctx, "out", func(ctx context.Context) error {
		return j.SetCursor(ctx, "out", 2)
	}))
	got, err := out.WaitForDeliveries(ctx, 7)
	require.NoError(t, err, "2..4 delivered again")
	assert.Equal(t, "e-1", got[4].Event.ID)
	require.ErrorIs(t, r.p.WithSinkStopped(ctx, "nope", nil), pipeline.ErrNoComponent)
	require.NoError(t, r.stop(t))
}

// levelRecorder records the levels and messages of log records.
type levelRecorder struct {
	mu     sync.Mutex
	errors []string
}

func (r *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *levelRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelError {
		r.mu.Lock()
		r.errors = append(r.errors, rec.Message)
		r.mu.Unlock()
	}
	return nil
}
func (r *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *levelRecorder) WithGroup(string) slog.Handler      { return r }

// A normal shutdown logs nothing at ERROR (the watermill router used to
// log its handlers' ends as errors).
func TestNormalShutdownLogsNoErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("out")
	rec := &levelRecorder{}
	set := pipeline.NopSettings("test")
	set.Logger = slog.New(rec)
	r := h.startWith(oneRoute("out"), set)
	h.sources["in"].emit(t, events("e", 10)...)
	_, err := out.WaitForDeliveries(ctxT(t), 10)
	require.NoError(t, err)
	require.NoError(t, r.stop(t))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Empty(t, rec.errors, strings.Join(rec.errors, "; "))
}
