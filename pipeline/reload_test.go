package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// tagConfig configures the reload tests' "tagged" sink: each build is a
// new instance; Tag tells settings apart, the Fail fields make a build,
// provisioning or start fail.
type tagConfig struct {
	Tag                                 string
	FailBuild, FailProvision, FailStart bool
}

func (*tagConfig) Validate() error { return nil }

// taggedSink records deliveries and counts them in its durable state.
type taggedSink struct {
	*pipelinetest.RecordingSink
	cfg     tagConfig
	state   pipeline.SinkState
	initial string
}

func (s *taggedSink) Provision(context.Context) error {
	if s.cfg.FailProvision {
		return errors.New("provision refused")
	}
	return nil
}

func (s *taggedSink) Start(ctx context.Context) error {
	if s.cfg.FailStart {
		return errors.New("start refused")
	}
	return s.RecordingSink.Start(ctx)
}

func (s *taggedSink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	if err := s.RecordingSink.Deliver(ctx, batch); err != nil {
		return err
	}
	if s.state != nil {
		n := 0
		if v, ok := s.state.Get("count"); ok {
			n, _ = strconv.Atoi(string(v))
		}
		s.state.Set("count", []byte(strconv.Itoa(n+len(batch))))
	}
	return nil
}

// reloadHarness builds tagged sinks, keeping every instance per name.
type reloadHarness struct {
	*harness
	mu        sync.Mutex
	instances map[string][]*taggedSink
}

func newReloadHarness(t *testing.T) *reloadHarness {
	rh := &reloadHarness{harness: newHarness(t), instances: map[string][]*taggedSink{}}
	snk, err := pipeline.NewRegistry(pipeline.NewSinkFactory("tagged", func() *tagConfig { return &tagConfig{} },
		func(_ context.Context, set pipeline.Settings, cfg *tagConfig) (pipeline.Sink, error) {
			if cfg.FailBuild {
				return nil, errors.New("build refused")
			}
			s := &taggedSink{RecordingSink: pipelinetest.NewRecordingSink(), cfg: *cfg, state: set.State}
			v, _ := set.State.Get("count")
			s.initial = string(v)
			rh.mu.Lock()
			rh.instances[set.ID] = append(rh.instances[set.ID], s)
			rh.mu.Unlock()
			return s, nil
		}))
	require.NoError(t, err)
	rh.regs.Sinks = snk
	return rh
}

// live returns the instances of sink name that were started (not those
// built to be provisioned only, or that failed to start).
func (rh *reloadHarness) live(name string) []*taggedSink {
	rh.mu.Lock()
	defer rh.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(rh.instances[name]), func(s *taggedSink) bool { return s.Started() == 0 })
}

// delivered returns the event IDs every live instance of name delivered.
func (rh *reloadHarness) delivered(name string) []string {
	var ids []string
	for _, s := range rh.live(name) {
		for _, e := range s.Events() {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func taggedSpec(routes []pipeline.RouteSpec, sinks ...pipeline.SinkSpec) pipeline.Spec {
	return pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   sinks,
		Routes:  routes,
	}
}

func tagged(name, tag string) pipeline.SinkSpec {
	return pipeline.SinkSpec{Name: name, Type: "tagged", Config: &tagConfig{Tag: tag}, Retry: fastRetry()}
}

func route(name string, to ...string) pipeline.RouteSpec {
	return pipeline.RouteSpec{Name: name, From: []string{"in"}, To: to, Fingerprint: name}
}

// A reload restarts only what changed, while events flow: a changed sink
// is rebuilt with the state committed with its cursor, a removed one
// stops, a new one starts, an unchanged one goes on; every event reaches
// each sink exactly once across the old and the new instance.
func TestReloadRestartsOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	rh := newReloadHarness(t)
	src := newScriptSource(nil)
	rh.sources["in"] = src
	j := pipelinetest.NewMemoryJournal()
	old := taggedSpec([]pipeline.RouteSpec{route("ab", "a", "b"), route("c", "c")},
		tagged("a", "v1"), tagged("b", "v1"), tagged("c", "v1"))
	r := startMem(t, rh.harness, j, old, pipeline.NopSettings("test"))
	ctx := ctxT(t)

	const batches, per = 40, 5
	emitted := make(chan error, 1)
	go func() {
		for i := range batches {
			src.batches <- events(fmt.Sprintf("e%d", i), per)
			if err := <-src.results; err != nil {
				emitted <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
		emitted <- nil
	}()
	require.Eventually(t, func() bool { return len(rh.delivered("a")) >= per }, 5*time.Second, time.Millisecond)
	next := taggedSpec([]pipeline.RouteSpec{route("ab", "a", "b", "d")},
		tagged("a", "v2"), tagged("b", "v1"), tagged("d", "v1"))
	rep, err := r.p.Reload(ctx, next, rh.regs)
	require.NoError(t, err)
	assert.Equal(t, pipeline.ReloadReport{Added: []string{"sink d"}, Removed: []string{"sink c"}, Restarted: []string{"sink a"}}, rep)
	require.NoError(t, <-emitted)

	want := batches * per
	for _, name := range []string{"a", "b", "d"} {
		require.Eventually(t, func() bool { return len(rh.delivered(name)) >= want }, 10*time.Second, time.Millisecond, name)
	}
	time.Sleep(20 * time.Millisecond)
	for _, name := range []string{"a", "b", "d"} {
		ids := rh.delivered(name)
		assert.Len(t, ids, want, "%s: nothing lost, nothing sent twice", name)
		assert.Len(t, uniq(ids), want, name)
	}
	a := rh.live("a")
	require.Len(t, a, 2, "a rebuilt once")
	assert.Equal(t, 1, a[0].Closed(), "the old a closed")
	assert.Equal(t, "v2", a[1].cfg.Tag)
	assert.Equal(t, strconv.Itoa(len(a[0].Events())), a[1].initial, "the new a starts from the state committed with the old one's cursor")
	b := rh.live("b")
	require.Len(t, b, 1, "b untouched")
	assert.Equal(t, 1, b[0].Started())
	c := rh.live("c")
	assert.Equal(t, 1, c[0].Closed(), "c closed")
	require.NoError(t, r.stop(t))
}

func uniq(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// A changed route restarts only the consumers of the sinks it delivers
// to; the sink itself keeps running and the new route applies to what it
// has not delivered yet.
func TestReloadReroutes(t *testing.T) {
	t.Parallel()
	rh := newReloadHarness(t)
	src := newScriptSource(nil)
	rh.sources["in"] = src
	j := pipelinetest.NewMemoryJournal()
	typed := func(name, typ string, to ...string) pipeline.RouteSpec {
		rt := route(name+"-"+typ, to...)
		rt.Name = name
		rt.Match = typeMatcher{want: typ}
		return rt
	}
	r := startMem(t, rh.harness, j, taggedSpec([]pipeline.RouteSpec{typed("ra", "x", "a"), route("rb", "b")},
		tagged("a", "v1"), tagged("b", "v1")), pipeline.NopSettings("test"))
	ctx := ctxT(t)
	src.emit(t, typedEvents("x", 2)...)
	src.emit(t, typedEvents("y", 2)...)
	require.Eventually(t, func() bool { return len(rh.delivered("b")) == 4 }, 5*time.Second, time.Millisecond)

	rep, err := r.p.Reload(ctx, taggedSpec([]pipeline.RouteSpec{typed("ra", "y", "a"), route("rb", "b")},
		tagged("a", "v1"), tagged("b", "v1")), rh.regs)
	require.NoError(t, err)
	assert.Equal(t, pipeline.ReloadReport{Rerouted: []string{"sink a"}}, rep)
	src.emit(t, events("x2", 1)...)
	src.emit(t, typedEvents("y", 1)...)
	require.Eventually(t, func() bool { return len(rh.delivered("b")) == 6 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return len(rh.delivered("a")) == 3 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []string{"x-0", "x-1", "y-0"}, rh.delivered("a"), "old match before, new match after")
	require.Len(t, rh.live("a"), 1)
	assert.Equal(t, 1, rh.live("a")[0].Started(), "the sink was not restarted")

	rep, err = r.p.Reload(ctx, taggedSpec([]pipeline.RouteSpec{typed("ra", "y", "a"), route("rb", "b")},
		tagged("a", "v1"), tagged("b", "v1")), rh.regs)
	require.NoError(t, err)
	assert.True(t, rep.Empty(), "the same spec changes nothing: %+v", rep)
	require.NoError(t, r.stop(t))
}

func typedEvents(typ string, n int) []pipeline.Event {
	out := events(typ, n)
	for i := range out {
		out[i].Type = typ
	}
	return out
}

// A reload whose new or changed components cannot be built or
// provisioned is refused as a whole: the running pipeline is unchanged.
// One whose changed sink cannot start rolls that sink back.
func TestReloadRefusedKeepsTheRunningPipeline(t *testing.T) {
	t.Parallel()
	fail := func(name string, f func(*tagConfig)) pipeline.SinkSpec {
		s := tagged(name, "v2")
		f(s.Config.(*tagConfig))
		return s
	}
	tests := []struct {
		name    string
		next    []pipeline.SinkSpec
		refused bool
	}{
		{name: "changed sink fails to build", next: []pipeline.SinkSpec{fail("a", func(c *tagConfig) { c.FailBuild = true }), tagged("n", "v1")}, refused: true},
		{name: "changed sink fails to provision", next: []pipeline.SinkSpec{fail("a", func(c *tagConfig) { c.FailProvision = true }), tagged("n", "v1")}, refused: true},
		{name: "new sink fails to provision", next: []pipeline.SinkSpec{tagged("a", "v2"), fail("n", func(c *tagConfig) { c.FailProvision = true })}, refused: true},
		{name: "changed sink fails to start", next: []pipeline.SinkSpec{fail("a", func(c *tagConfig) { c.FailStart = true })}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rh := newReloadHarness(t)
			src := newScriptSource(nil)
			rh.sources["in"] = src
			j := pipelinetest.NewMemoryJournal()
			r := startMem(t, rh.harness, j, taggedSpec([]pipeline.RouteSpec{route("r", "a", "n")}, tagged("a", "v1")), pipeline.NopSettings("test"))
			ctx := ctxT(t)
			src.emit(t, events("before", 2)...)
			rep, err := r.p.Reload(ctx, taggedSpec([]pipeline.RouteSpec{route("r", "a", "n")}, tt.next...), rh.regs)
			require.Error(t, err)
			if tt.refused {
				require.ErrorIs(t, err, pipeline.ErrReloadRefused)
				assert.True(t, rep.Empty(), "%+v", rep)
				require.Len(t, rh.live("a"), 1, "the running a was not touched")
				assert.Zero(t, rh.live("a")[0].Closed())
			} else {
				require.ErrorContains(t, err, "rolled back")
				a := rh.live("a")
				require.Len(t, a, 2, "old, rolled back")
				assert.Equal(t, "v1", a[1].cfg.Tag)
				assert.Equal(t, 1, a[0].Closed())
			}
			src.emit(t, events("after", 2)...)
			require.Eventually(t, func() bool { return len(rh.delivered("a")) == 4 }, 5*time.Second, time.Millisecond, "a still delivers")
			assert.Len(t, uniq(rh.delivered("a")), 4)
			require.NoError(t, r.stop(t))
		})
	}
}

// A changed source is stopped and started again; sources that did not
// change are not. Reload outside Run is refused.
func TestReloadSourcesAndNotRunning(t *testing.T) {
	t.Parallel()
	rh := newReloadHarness(t)
	var log []string
	src := newScriptSource(&log)
	rh.sources["in"] = src
	rh.sources["more"] = newScriptSource(nil)
	spec := taggedSpec([]pipeline.RouteSpec{route("r", "a")}, tagged("a", "v1"))
	p, err := pipeline.New(context.Background(), spec, rh.regs, pipelinetest.NewMemoryJournal(), pipeline.NopSettings("test"))
	require.NoError(t, err)
	_, err = p.Reload(context.Background(), spec, rh.regs)
	require.ErrorIs(t, err, pipeline.ErrNotRunning)

	r := startMem(t, rh.harness, pipelinetest.NewMemoryJournal(), spec, pipeline.NopSettings("test"))
	ctx := ctxT(t)
	next := spec
	next.Sources = []pipeline.SourceSpec{{Name: "more", Type: "script", Config: &emptyConfig{}}}
	next.Routes = []pipeline.RouteSpec{{Name: "r", From: []string{"more"}, To: []string{"a"}, Fingerprint: "more"}}
	rep, err := r.p.Reload(ctx, next, rh.regs)
	require.NoError(t, err)
	assert.Equal(t, pipeline.ReloadReport{Added: []string{"source more"}, Removed: []string{"source in"}, Rerouted: []string{"sink a"}}, rep)
	src.mu.Lock()
	assert.Equal(t, []string{"source stopped"}, log)
	src.mu.Unlock()
	rh.sources["more"].emit(t, events("m", 1)...)
	require.Eventually(t, func() bool { return len(rh.delivered("a")) == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, r.stop(t))
}

// Status names every component with its type and whether it runs, and
// each sink's cursor and lag; it follows a Reload.
func TestStatusFollowsReload(t *testing.T) {
	t.Parallel()
	rh := newReloadHarness(t)
	src := newScriptSource(nil)
	rh.sources["in"] = src
	r := startMem(t, rh.harness, pipelinetest.NewMemoryJournal(), taggedSpec([]pipeline.RouteSpec{route("r", "a")}, tagged("a", "v1")), pipeline.NopSettings("test"))
	ctx := ctxT(t)
	src.emit(t, events("e", 3)...)
	require.Eventually(t, func() bool { return r.p.Status().Sinks[0].Next == 4 }, 5*time.Second, time.Millisecond)
	st := r.p.Status()
	assert.True(t, st.Ready)
	assert.Equal(t, uint64(3), st.LastAppended)
	assert.Equal(t, []pipeline.SourceStatus{{Name: "in", Type: "script", Running: true, Appended: 3}}, st.Sources)
	assert.Equal(t, []pipeline.SinkStatus{{Name: "a", Type: "tagged", Running: true, Next: 4, Delivered: 3}}, st.Sinks)

	_, err := r.p.Reload(ctx, taggedSpec([]pipeline.RouteSpec{route("r", "b")}, tagged("b", "v1")), rh.regs)
	require.NoError(t, err)
	require.Eventually(t, func() bool { s := r.p.Status().Sinks; return len(s) == 1 && s[0].Next == 4 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, "b", r.p.Status().Sinks[0].Name)
	require.NoError(t, r.p.StopConsumer(ctx, "b"))
	src.emit(t, events("f", 2)...)
	st = r.p.Status()
	assert.Equal(t, pipeline.SinkStatus{Name: "b", Type: "tagged", Next: 4, Lag: 2}, pipeline.SinkStatus{Name: st.Sinks[0].Name, Type: st.Sinks[0].Type, Running: st.Sinks[0].Running, Next: st.Sinks[0].Next, Lag: st.Sinks[0].Lag})
	require.NoError(t, r.p.StartConsumer("b"))
	require.NoError(t, r.stop(t))
}
