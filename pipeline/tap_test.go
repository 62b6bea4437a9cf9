package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// tapHarness is a running pipeline with source "in" driven by the test,
// sink "a" (every event, data "permanent" is refused for good) through
// route "to-a" and sink "b" (type "for-b" only) through route "to-b".
type tapHarness struct {
	p      *pipeline.Pipeline
	host   pipeline.SourceHost
	a, b   *pipelinetest.RecordingSink
	cancel context.CancelFunc
	done   chan error
}

func newTapHarness(t *testing.T) *tapHarness {
	t.Helper()
	h := newHarness(t)
	src := &hostSource{host: make(chan pipeline.SourceHost, 1)}
	srcReg, err := pipeline.NewRegistry(pipeline.NewSourceFactory("host", func() *emptyConfig { return &emptyConfig{} },
		func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) { return src, nil }))
	require.NoError(t, err)
	h.regs.Sources = srcReg
	th := &tapHarness{a: h.recording("a"), b: h.recording("b"), done: make(chan error, 1)}
	th.a.SetHook(func(_ context.Context, batch []pipeline.Delivery) error {
		var failed []pipeline.DeliveryFailure
		for i, d := range batch {
			if string(d.Event.Data) == "permanent" {
				failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: pipeline.Permanent(errors.New("rejected by peer"))})
			}
		}
		if failed != nil {
			return &pipeline.BatchError{Failed: failed}
		}
		return nil
	})
	j, err := journal.Open(h.dir, journal.Options{CursorFlushInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	th.p, err = pipeline.New(context.Background(), pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "host", Config: &emptyConfig{}}},
		Sinks: []pipeline.SinkSpec{
			{Name: "a", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()},
			{Name: "b", Type: "recording", Config: &emptyConfig{}},
		},
		Routes: []pipeline.RouteSpec{
			{Name: "to-a", From: []string{"in"}, To: []string{"a"}},
			{Name: "to-b", From: []string{"in"}, To: []string{"b"}, Match: typeMatch("for-b")},
		},
	}, h.regs, j, pipeline.NopSettings("test"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	th.cancel = cancel
	go func() { th.done <- th.p.Run(ctx) }()
	th.host = <-src.host
	t.Cleanup(func() {
		cancel()
		if err := <-th.done; err != nil {
			t.Logf("pipeline run: %v", err)
		}
		_ = j.Close(context.Background())
	})
	return th
}

func (th *tapHarness) emit(t *testing.T, events ...pipeline.Event) pipeline.AppendResult {
	t.Helper()
	res, err := th.host.Emit(context.Background(), events)
	require.NoError(t, err)
	return res
}

// collect reads n records from tap, or fails after a while.
func collect(t *testing.T, tap *pipeline.Tap, n int) []pipeline.TapRecord {
	t.Helper()
	var out []pipeline.TapRecord
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case rec, ok := <-tap.Records():
			require.True(t, ok, "tap closed after %d of %d records: %v", len(out), n, tap.Err())
			out = append(out, rec)
		case <-timeout:
			t.Fatalf("tap: %d of %d records after 10s", len(out), n)
		}
	}
	return out
}

// summary is what a test compares of a tap record.
type summary struct {
	Kind                pipeline.TapKind
	Source, Route, Sink string
	ID                  string
	Outcome, Reason     string
}

func summarize(recs []pipeline.TapRecord) []summary {
	out := make([]summary, len(recs))
	for i, r := range recs {
		out[i] = summary{r.Kind, r.Source, r.Route, r.Sink, r.Event.ID, r.Outcome, r.Reason}
	}
	return out
}

func TestTapObservesSourcesRoutesAndSinks(t *testing.T) {
	t.Parallel()
	th := newTapHarness(t)
	sinkTap, err := th.p.Tap(0, pipeline.TapPoint{Kind: pipeline.TapSink, Name: "a"})
	require.NoError(t, err)
	routeTap, err := th.p.Tap(0, pipeline.TapPoint{Kind: pipeline.TapRoute, Name: "to-b"})
	require.NoError(t, err)
	srcTap, err := th.p.Tap(0, pipeline.TapPoint{Kind: pipeline.TapSource, Name: "in"})
	require.NoError(t, err)
	res := th.emit(t,
		pipeline.Event{ID: "e1", Type: "t", Data: []byte("ok")},
		pipeline.Event{ID: "e2", Type: "for-b", Data: []byte("ok")},
		pipeline.Event{ID: "e3", Type: "for-b", Data: []byte("permanent")},
	)

	src := collect(t, srcTap, 3)
	assert.Equal(t, []summary{
		{pipeline.TapSource, "in", "", "", "e1", pipeline.TapAppended, ""},
		{pipeline.TapSource, "in", "", "", "e2", pipeline.TapAppended, ""},
		{pipeline.TapSource, "in", "", "", "e3", pipeline.TapAppended, ""},
	}, summarize(src))
	for i, r := range src {
		assert.Equal(t, res.First+uint64(i), r.Seq)
		assert.Equal(t, r.Seq, r.Event.Sequence)
	}

	assert.Equal(t, []summary{
		{pipeline.TapRoute, "in", "to-b", "b", "e2", pipeline.TapSelected, ""},
		{pipeline.TapRoute, "in", "to-b", "b", "e3", pipeline.TapSelected, ""},
	}, summarize(collect(t, routeTap, 2)))

	sink := collect(t, sinkTap, 3)
	assert.ElementsMatch(t, []summary{
		{pipeline.TapSink, "in", "to-a", "a", "e1", pipeline.TapDelivered, ""},
		{pipeline.TapSink, "in", "to-a", "a", "e2", pipeline.TapDelivered, ""},
		{pipeline.TapSink, "in", "to-a", "a", "e3", pipeline.TapDeadLettered, pipeline.ReasonPermanent},
	}, summarize(sink))
	for _, r := range sink {
		if r.Outcome == pipeline.TapDeadLettered {
			assert.Contains(t, r.Err, "rejected by peer")
		}
	}

	st := th.p.Status()
	require.Len(t, st.Sources, 1)
	assert.Equal(t, uint64(3), st.Sources[0].Appended)
	require.Len(t, st.Sinks, 2)
	assert.Equal(t, uint64(2), st.Sinks[0].Delivered)
	assert.Equal(t, uint64(1), st.Sinks[0].DeadLettered)
	assert.Equal(t, uint64(1), st.Sinks[0].Failures)
	require.Eventually(t, func() bool { return th.p.Status().Sinks[1].Delivered == 2 }, 5*time.Second, time.Millisecond)
}

func TestTapRefusesUnknownNames(t *testing.T) {
	t.Parallel()
	th := newTapHarness(t)
	tests := []struct {
		name    string
		point   pipeline.TapPoint
		is      error
		defined string
	}{
		{"sink", pipeline.TapPoint{Kind: pipeline.TapSink, Name: "c"}, pipeline.ErrUnknownSink, "defined: a, b"},
		{"route", pipeline.TapPoint{Kind: pipeline.TapRoute, Name: "to-c"}, pipeline.ErrUnknownRoute, "defined: to-a, to-b"},
		{"source", pipeline.TapPoint{Kind: pipeline.TapSource, Name: "out"}, pipeline.ErrUnknownSource, "defined: in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := th.p.Tap(0, pipeline.TapPoint{Kind: pipeline.TapSink, Name: "a"}, tt.point)
			require.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.defined)
		})
	}
	_, err := th.p.Tap(0)
	require.Error(t, err)
}

// TestSlowTapNeverSlowsDelivery: a tap nobody reads fills its buffer and
// counts drops while every event is delivered.
func TestSlowTapNeverSlowsDelivery(t *testing.T) {
	t.Parallel()
	th := newTapHarness(t)
	tap, err := th.p.Tap(2, pipeline.TapPoint{Kind: pipeline.TapSink, Name: "a"}, pipeline.TapPoint{Kind: pipeline.TapSource, Name: "in"})
	require.NoError(t, err)
	const n = 200
	for i := range n {
		th.emit(t, pipeline.Event{ID: "e" + string(rune('a'+i%26)), Type: "t", Data: []byte("ok")})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = th.a.WaitForDeliveries(ctx, n)
	require.NoError(t, err)
	assert.Equal(t, uint64(2*n-2), tap.Dropped(), "all but the buffer's two are dropped")
	assert.Len(t, tap.Records(), 2)
	tap.Close()
	tap.Close()
	require.NoError(t, tap.Err())
}

func TestTapEndsWhenThePipelineStops(t *testing.T) {
	t.Parallel()
	th := newTapHarness(t)
	tap, err := th.p.Tap(0, pipeline.TapPoint{Kind: pipeline.TapSink, Name: "b"})
	require.NoError(t, err)
	th.cancel()
	require.NoError(t, <-th.done)
	th.done <- nil // for the cleanup
	for range tap.Records() {
	}
	require.ErrorIs(t, tap.Err(), pipeline.ErrTapStopped)
	require.ErrorIs(t, tap.Err(), pipeline.ErrNotRunning)
	_, err = th.p.Tap(0, pipeline.TapPoint{Kind: pipeline.TapSink, Name: "b"})
	require.ErrorIs(t, err, pipeline.ErrTapStopped)
}

// A Reload that removes a point a tap watches ends that tap with an error
// naming each point gone; taps on points that remain keep observing.
func TestReloadEndsTheTapsOfRemovedPoints(t *testing.T) {
	t.Parallel()
	rh := newReloadHarness(t)
	src := newScriptSource(nil)
	rh.sources["in"] = src
	spec := taggedSpec([]pipeline.RouteSpec{route("ra", "a"), route("rb", "b")}, tagged("a", "v1"), tagged("b", "v1"))
	r := startMem(t, rh.harness, pipelinetest.NewMemoryJournal(), spec, pipeline.NopSettings("test"))
	ctx := ctxT(t)
	open := func(points ...pipeline.TapPoint) *pipeline.Tap {
		t.Helper()
		tap, err := r.p.Tap(0, points...)
		require.NoError(t, err)
		return tap
	}
	sinkA := pipeline.TapPoint{Kind: pipeline.TapSink, Name: "a"}
	sinkB := pipeline.TapPoint{Kind: pipeline.TapSink, Name: "b"}
	routeA := pipeline.TapPoint{Kind: pipeline.TapRoute, Name: "ra"}
	tapA := open(sinkA)
	tapAB := open(sinkB, routeA, sinkA)
	tapB := open(sinkB)

	_, err := r.p.Reload(ctx, taggedSpec([]pipeline.RouteSpec{route("rb", "b")}, tagged("b", "v1")), rh.regs)
	require.NoError(t, err)
	for _, tt := range []struct {
		tap  *pipeline.Tap
		want string
	}{
		{tapA, `sink "a" no longer exists: a configuration reload removed it`},
		{tapAB, "route \"ra\" no longer exists: a configuration reload removed it\nsink \"a\" no longer exists: a configuration reload removed it"},
	} {
		select {
		case _, ok := <-tt.tap.Records():
			require.False(t, ok, "no observation: the sink is gone")
		case <-time.After(10 * time.Second):
			t.Fatal("the tap on a removed point did not end")
		}
		require.ErrorIs(t, tt.tap.Err(), pipeline.ErrTapPointRemoved)
		assert.Equal(t, tt.want, tt.tap.Err().Error())
	}

	src.emit(t, events("e", 2)...)
	assert.Equal(t, []string{"e-0", "e-1"}, func() []string {
		var out []string
		for _, rec := range collect(t, tapB, 2) {
			out = append(out, rec.Event.ID)
		}
		return out
	}(), "the tap on the remaining sink goes on")
	_, err = r.p.Tap(0, sinkA)
	require.ErrorIs(t, err, pipeline.ErrUnknownSink)
	require.NoError(t, r.stop(t))
	for range tapB.Records() {
	}
	require.ErrorIs(t, tapB.Err(), pipeline.ErrTapStopped)
}
