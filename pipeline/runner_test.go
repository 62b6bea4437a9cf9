package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// scriptSource emits the batches sent on its channel and reports each
// Emit's result.
type scriptSource struct {
	batches chan []pipeline.Event
	results chan error
	fail    error // returned by Run at once when set
	mu      sync.Mutex
	log     *[]string
}

func newScriptSource(log *[]string) *scriptSource {
	return &scriptSource{batches: make(chan []pipeline.Event), results: make(chan error, 1), log: log}
}

func (s *scriptSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	if s.fail != nil {
		return s.fail
	}
	defer s.note("source stopped")
	for {
		select {
		case <-ctx.Done():
			return nil
		case b := <-s.batches:
			_, err := host.Emit(ctx, b)
			s.results <- err
		}
	}
}

func (s *scriptSource) note(msg string) {
	if s.log != nil {
		s.mu.Lock()
		*s.log = append(*s.log, msg)
		s.mu.Unlock()
	}
}

// emit sends events through the source and waits until they are durable.
func (s *scriptSource) emit(t *testing.T, events ...pipeline.Event) {
	t.Helper()
	s.batches <- events
	require.NoError(t, <-s.results)
}

type emptyConfig struct{}

func (*emptyConfig) Validate() error { return nil }

// harness builds pipelines over a real journal in a temporary directory.
type harness struct {
	t       testing.TB
	dir     string
	sources map[string]*scriptSource
	sinks   map[string]pipeline.Sink
	regs    pipeline.Registries
	// wrap, when set, is the journal the pipeline gets around the real one.
	wrap func(*journal.Journal) pipeline.Journal
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), sources: map[string]*scriptSource{}, sinks: map[string]pipeline.Sink{}}
	src, err := pipeline.NewRegistry(pipeline.NewSourceFactory("script", func() *emptyConfig { return &emptyConfig{} },
		func(_ context.Context, set pipeline.Settings, _ *emptyConfig) (pipeline.Source, error) {
			return h.sources[set.ID], nil
		}))
	require.NoError(t, err)
	snk, err := pipeline.NewRegistry(pipeline.NewSinkFactory("recording", func() *emptyConfig { return &emptyConfig{} },
		func(_ context.Context, set pipeline.Settings, _ *emptyConfig) (pipeline.Sink, error) {
			return h.sinks[set.ID], nil
		}))
	require.NoError(t, err)
	h.regs = pipeline.Registries{Sources: src, Sinks: snk}
	return h
}

// recording registers a new recording sink under name.
func (h *harness) recording(name string) *pipelinetest.RecordingSink {
	s := pipelinetest.NewRecordingSink()
	h.sinks[name] = s
	return s
}

// running is a pipeline started by harness.start.
type running struct {
	journal *journal.Journal
	cancel  context.CancelFunc
	done    chan error
}

// start opens the journal and runs a pipeline for spec until stop.
func (h *harness) start(spec pipeline.Spec) *running {
	h.t.Helper()
	return h.startWith(spec, pipeline.NopSettings("test"))
}

// startWith is start with the given settings.
func (h *harness) startWith(spec pipeline.Spec, set pipeline.Settings) *running {
	h.t.Helper()
	j, err := journal.Open(h.dir, journal.Options{CursorFlushInterval: 10 * time.Millisecond})
	require.NoError(h.t, err)
	var pj pipeline.Journal = j
	if h.wrap != nil {
		pj = h.wrap(j)
	}
	p, err := pipeline.New(context.Background(), spec, h.regs, pj, set)
	require.NoError(h.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{journal: j, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	require.Eventually(h.t, p.Ready, 5*time.Second, time.Millisecond)
	h.t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			h.t.Logf("pipeline run: %v", err)
		}
		_ = j.Close(context.Background())
	})
	return r
}

// stop cancels the pipeline, waits for Run and closes the journal.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	var err error
	select {
	case err = <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("pipeline did not stop")
	}
	r.done <- err // for Cleanup
	require.NoError(t, r.journal.Close(context.Background()))
	return err
}

func events(prefix string, n int) []pipeline.Event {
	out := make([]pipeline.Event, n)
	for i := range out {
		out[i] = pipeline.Event{ID: fmt.Sprintf("%s-%d", prefix, i), Type: "test", Data: []byte(`{}`)}
	}
	return out
}

func ids(evs []pipeline.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func fastRetry() pipeline.RetryConfig {
	return pipeline.RetryConfig{Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2}
}

func TestFanOutWithoutHeadOfLineBlocking(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	down, up := h.recording("down"), h.recording("up")
	down.SetError(errors.New("connection refused"))
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks: []pipeline.SinkSpec{
			{Name: "down", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()},
			{Name: "up", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()},
		},
		Routes: []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"down", "up"}}},
	})
	want := events("e", 50)
	for i := 0; i < len(want); i += 10 {
		h.sources["in"].emit(t, want[i:i+10]...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := up.WaitForDeliveries(ctx, 50)
	require.NoError(t, err, "a failing sink must not hold back another")
	require.Equal(t, ids(want), ids(up.Events()))
	require.Empty(t, down.Events())
	require.Eventually(t, func() bool { return down.Calls() > 1 }, 5*time.Second, time.Millisecond, "the failing sink is retried")

	down.SetError(nil)
	_, err = down.WaitForDeliveries(ctx, 50)
	require.NoError(t, err)
	require.Equal(t, ids(want), ids(down.Events()), "order is preserved per sink")
	for _, d := range up.Deliveries() {
		assert.Equal(t, pipeline.IdempotencyKey(d.Event.Source, d.Event.ID, "up"), d.Key)
		assert.Equal(t, "r", d.Route)
		assert.Equal(t, "in", d.Event.Origin)
		assert.NotZero(t, d.Event.Sequence)
	}
	require.NoError(t, r.stop(t))
}

func TestRoutesSelectBySource(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["a"], h.sources["b"] = newScriptSource(nil), newScriptSource(nil)
	onlyA, both := h.recording("only-a"), h.recording("both")
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "a", Type: "script", Config: &emptyConfig{}}, {Name: "b", Type: "script", Config: &emptyConfig{}}},
		Sinks: []pipeline.SinkSpec{
			{Name: "only-a", Type: "recording", Config: &emptyConfig{}},
			{Name: "both", Type: "recording", Config: &emptyConfig{}},
		},
		Routes: []pipeline.RouteSpec{
			{Name: "ra", From: []string{"a"}, To: []string{"only-a", "both"}},
			{Name: "rb", From: []string{"b"}, To: []string{"both"}},
			{Name: "dup", From: []string{"a"}, To: []string{"both"}},
		},
	})
	h.sources["a"].emit(t, events("a", 3)...)
	h.sources["b"].emit(t, events("b", 2)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := both.WaitForDeliveries(ctx, 5)
	require.NoError(t, err)
	_, err = onlyA.WaitForDeliveries(ctx, 3)
	require.NoError(t, err)
	require.NoError(t, r.stop(t))
	require.Equal(t, []string{"a-0", "a-1", "a-2"}, ids(onlyA.Events()))
	require.Equal(t, []string{"a-0", "a-1", "a-2", "b-0", "b-1"}, ids(both.Events()), "an event reaches a sink once however many routes select it")
}

func TestPermanentFailureMovesOn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := h.recording("out")
	sink.Script(pipeline.Permanent(errors.New("400 bad request")))
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	})
	h.sources["in"].emit(t, events("bad", 1)...)
	require.Eventually(t, func() bool { return sink.Calls() == 1 }, 5*time.Second, time.Millisecond)
	h.sources["in"].emit(t, events("good", 1)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := sink.WaitForDeliveries(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"good-0"}, ids(sink.Events()))
	require.Equal(t, 2, sink.Calls(), "a permanent failure is not retried")
	require.NoError(t, r.stop(t))
}

func TestRetriesExhaustedUnderMaxElapsed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	sink := h.recording("out")
	sink.SetError(errors.New("503"))
	retry := fastRetry()
	retry.MaxElapsed = 50 * time.Millisecond
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: retry}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	})
	h.sources["in"].emit(t, events("lost", 1)...)
	require.Eventually(t, func() bool {
		c, err := r.journal.Cursor(context.Background(), "out")
		return err == nil && c == 2
	}, 10*time.Second, 5*time.Millisecond, "the cursor moves past a batch whose retries ran out")
	require.Greater(t, sink.Calls(), 2)
	require.NoError(t, r.stop(t))
}

func TestShutdownStopsSourcesFirstAndResumesFromCursor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var order []string
	h.sources["in"] = newScriptSource(&order)
	sink := h.recording("out")
	spec := pipeline.Spec{
		Sources:         []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:           []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()}},
		Routes:          []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
		ShutdownTimeout: 2 * time.Second,
	}
	r := h.start(spec)
	h.sources["in"].emit(t, events("first", 5)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := sink.WaitForDeliveries(ctx, 5)
	require.NoError(t, err)
	// The sink goes down; what is emitted now stays in the journal.
	sink.SetError(errors.New("unreachable"))
	h.sources["in"].emit(t, events("second", 5)...)
	require.Eventually(t, func() bool { return sink.Calls() > 2 }, 5*time.Second, time.Millisecond)
	start := time.Now()
	require.NoError(t, r.stop(t))
	require.Less(t, time.Since(start), 5*time.Second, "a sink retrying forever does not hold shutdown past its bound")
	require.Equal(t, []string{"source stopped"}, order)
	require.Equal(t, 1, sink.Closed())

	// After a restart the sink, up again, gets exactly what it missed.
	src2 := newScriptSource(nil)
	h.sources["in"] = src2
	sink2 := h.recording("out")
	r2 := h.start(spec)
	_, err = sink2.WaitForDeliveries(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, ids(events("second", 5)), ids(sink2.Events()))
	require.NoError(t, r2.stop(t))
}

func TestSourceFailureStopsPipeline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := newScriptSource(nil)
	src.fail = errors.New("bind: address in use")
	h.sources["in"] = src
	out := h.recording("out")
	j, err := journal.Open(h.dir, journal.Options{})
	require.NoError(t, err)
	defer j.Close(context.Background())
	p, err := pipeline.New(context.Background(), pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	}, h.regs, j, pipeline.NopSettings("test"))
	require.NoError(t, err)
	err = p.Run(context.Background())
	require.ErrorContains(t, err, "source in: bind: address in use")
	require.Equal(t, 1, out.Closed(), "sinks are closed after a failure")
}

func TestNewRejectsUnknownTypes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := pipeline.New(context.Background(), pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "nope", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "nada", Config: &emptyConfig{}}},
	}, h.regs, nil, pipeline.NopSettings("test"))
	require.ErrorIs(t, err, pipeline.ErrUnknownType)
	require.ErrorContains(t, err, "source in")
	require.ErrorContains(t, err, "sink out")
}

// typeMatcher selects events by type; "boom" makes Match fail.
type typeMatcher struct{ want string }

func (m typeMatcher) Match(e *pipeline.Event) (bool, error) {
	if e.Type == "boom" {
		return false, errors.New("no such key: region")
	}
	return e.Type == m.want, nil
}

// subjectSetter sets the subject; an event with subject "bad" fails.
type subjectSetter struct{ subject string }

func (s subjectSetter) Transform(e pipeline.Event) (pipeline.Event, error) {
	if e.Subject == "bad" {
		return e, errors.New("template: missing key")
	}
	e.Subject = s.subject
	return e, nil
}

func TestRouteMatchAndTransform(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("out")
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes: []pipeline.RouteSpec{
			{Name: "alerts", From: []string{"in"}, To: []string{"out"}, Match: typeMatcher{"alert"}, Transform: subjectSetter{"paged"}},
			{Name: "rest", From: []string{"in"}, To: []string{"out"}, Match: typeMatcher{"info"}},
		},
	})
	h.sources["in"].emit(t,
		pipeline.Event{ID: "1", Type: "alert"},
		pipeline.Event{ID: "2", Type: "info"},
		pipeline.Event{ID: "3", Type: "other"},
		pipeline.Event{ID: "4", Type: "boom"},
		pipeline.Event{ID: "5", Type: "alert", Subject: "bad"},
		pipeline.Event{ID: "6", Type: "alert"},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := out.WaitForDeliveries(ctx, 3)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []string{"1", "2", "6"}, []string{got[0].Event.ID, got[1].Event.ID, got[2].Event.ID})
	assert.Equal(t, "alerts", got[0].Route)
	assert.Equal(t, "paged", got[0].Event.Subject)
	assert.Equal(t, "rest", got[1].Route)
	assert.Empty(t, got[1].Event.Subject)
	assert.Equal(t, uint64(1), got[0].Event.Sequence, "a transform keeps the journal sequence")
	require.Eventually(t, func() bool {
		c, err := r.journal.Cursor(context.Background(), "out")
		return err == nil && c == 7
	}, 5*time.Second, time.Millisecond, "events that fail to match or transform do not block the cursor")
	require.NoError(t, r.stop(t))
}

func TestThrottleCoalescesPerKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("out")
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks: []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{},
			Throttle: &pipeline.ThrottleSpec{Period: 300 * time.Millisecond}}},
		Routes: []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	})
	h.sources["in"].emit(t, pipeline.Event{ID: "1", Type: "state", Subject: "web"})
	h.sources["in"].emit(t, pipeline.Event{ID: "2", Type: "state", Subject: "web"}, pipeline.Event{ID: "3", Type: "state", Subject: "web"})
	h.sources["in"].emit(t, pipeline.Event{ID: "4", Type: "state", Subject: "db"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := out.WaitForDeliveries(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "4", "3"}, []string{got[0].Event.ID, got[1].Event.ID, got[2].Event.ID},
		"within the period only the latest state per key is delivered, when the period ends")
	require.Eventually(t, func() bool {
		c, err := r.journal.Cursor(context.Background(), "out")
		return err == nil && c == 5
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, r.stop(t))
	require.Len(t, out.Deliveries(), 3)
}

// waitLetters waits until store holds n dead letters that f matches and
// returns them.
func waitLetters(t *testing.T, store pipeline.DeadLetterStore, f pipeline.DeadLetterFilter, n int) []pipeline.DeadLetter {
	t.Helper()
	var letters []pipeline.DeadLetter
	require.Eventually(t, func() bool {
		letters = letters[:0]
		err := store.DeadLetters(context.Background(), f, func(l pipeline.DeadLetter) error {
			letters = append(letters, l)
			return nil
		})
		return err == nil && len(letters) == n
	}, 5*time.Second, time.Millisecond, "want %d dead letters", n)
	return letters
}
