package pipeline_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// offsetClock is the wall clock moved by an offset tests set.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) NewTimer(d time.Duration) pipeline.Timer {
	return pipeline.RealClock().NewTimer(d)
}
func (c *offsetClock) add(d time.Duration) { c.off.Add(int64(d)) }

// warnRecorder keeps the messages and attributes of WARN records.
type warnRecorder struct {
	mu    sync.Mutex
	warns []map[string]string
}

func (r *warnRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *warnRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Level != slog.LevelWarn {
		return nil
	}
	m := map[string]string{"msg": rec.Message}
	rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	r.mu.Lock()
	r.warns = append(r.warns, m)
	r.mu.Unlock()
	return nil
}
func (r *warnRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *warnRecorder) WithGroup(string) slog.Handler      { return r }

func (r *warnRecorder) find(consumer string) []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, w := range r.warns {
		if w["consumer"] == consumer {
			out = append(out, w)
		}
	}
	return out
}

// orphanJournal holds 10 records and the cursors of a removed sink
// ("renamed", at 4), a tool and a listed consumer.
func orphanJournal(t *testing.T) *pipelinetest.MemoryJournal {
	t.Helper()
	j := pipelinetest.NewMemoryJournal()
	ctx := context.Background()
	_, err := j.Append(ctx, pipeline.AppendBatch{Events: events("old", 10)})
	require.NoError(t, err)
	for consumer, next := range map[string]uint64{"renamed": 4, "sluice:export": 2, "fleet-relay": 3} {
		require.NoError(t, j.CommitCursor(ctx, consumer, next))
	}
	return j
}

// A cursor whose consumer is no longer a configured sink is logged with
// its backlog and marked at start; once the mark is older than the TTL,
// it is deleted (counted, logged), so it no longer pins retention.
// Tool consumers and those in KeepCursors are left alone.
func TestOrphanedCursorRemovedAfterTTL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	h.recording("out")
	j := orphanJournal(t)
	clock := &offsetClock{}
	rec := &warnRecorder{}
	reader := sdkmetric.NewManualReader()
	set := pipeline.NopSettings("test")
	set.Clock, set.Logger = clock, slog.New(rec)
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spec := oneRoute("out")
	spec.KeepCursors = []string{"fleet-relay"}
	spec.OrphanCursorTTL = 24 * time.Hour

	r := startMem(t, h, j, spec, set)
	require.NoError(t, r.stop(t))
	st, err := j.Stats(context.Background())
	require.NoError(t, err)
	assert.Contains(t, st.Cursors, "renamed", "kept until the TTL passed")
	state, err := j.ConsumerState(context.Background(), "renamed")
	require.NoError(t, err)
	assert.Contains(t, state, pipeline.OrphanedSinceKey, "the mark is stored in the orphan's state")
	warns := rec.find("renamed")
	require.Len(t, warns, 1)
	assert.Equal(t, "7", warns[0]["backlog"], "head 10, cursor 4")
	assert.Empty(t, rec.find("sluice:export"))
	assert.Empty(t, rec.find("fleet-relay"))

	clock.add(25 * time.Hour)
	r = startMem(t, h, j, spec, set)
	require.NoError(t, r.stop(t))
	st, err = j.Stats(context.Background())
	require.NoError(t, err)
	assert.NotContains(t, st.Cursors, "renamed", "removed after the TTL")
	assert.Contains(t, st.Cursors, "sluice:export")
	assert.Contains(t, st.Cursors, "fleet-relay")
	assert.Contains(t, st.Cursors, "out")
	assert.Equal(t, int64(1), counterValue(t, reader, "sluice.journal.orphan_cursors_removed", "", ""))
	warns = rec.find("renamed")
	require.Len(t, warns, 2)
	assert.Contains(t, warns[1]["msg"], "removed")
}

// The TTL is also enforced while running, by a timer.
func TestOrphanedCursorRemovedWhileRunning(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	h.recording("out")
	j := orphanJournal(t)
	spec := oneRoute("out")
	spec.OrphanCursorTTL = 50 * time.Millisecond
	r := startMem(t, h, j, spec, pipeline.NopSettings("test"))
	require.Eventually(t, func() bool {
		st, err := j.Stats(context.Background())
		_, ok := st.Cursors["renamed"]
		return err == nil && !ok
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, r.stop(t))
}

// start_at decides where a sink without a cursor begins; a sink with a
// cursor resumes from it whatever its start_at.
func TestStartAt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := newScriptSource(nil)
	h.sources["in"] = src
	clock := &offsetClock{}
	j := pipelinetest.NewMemoryJournal()
	j.Clock = clock
	ctx := context.Background()
	var third time.Time
	for i := range 5 {
		res, err := j.Append(ctx, pipeline.AppendBatch{Events: []pipeline.Event{{ID: string(rune('a' + i)), Origin: "in", Type: "t"}}})
		require.NoError(t, err)
		if i == 2 {
			third = res.Time
		}
		clock.add(time.Hour)
	}
	require.NoError(t, j.CommitCursor(ctx, "resumes", 2))
	sinks := map[string]pipeline.StartAt{
		"oldest": {}, "newest": {Newest: true}, "timed": {Time: third}, "resumes": {Newest: true},
	}
	spec := pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}}},
	}
	recs := map[string]*pipelinetest.RecordingSink{}
	for name, at := range sinks {
		recs[name] = h.recording(name)
		spec.Sinks = append(spec.Sinks, pipeline.SinkSpec{Name: name, Type: "recording", Config: &emptyConfig{}, StartAt: at})
		spec.Routes[0].To = append(spec.Routes[0].To, name)
	}
	r := startMem(t, h, j, spec, pipeline.NopSettings("test"))
	src.emit(t, pipeline.Event{ID: "f", Type: "t"})
	want := map[string]string{"oldest": "abcdef", "newest": "f", "timed": "cdef", "resumes": "bcdef"}
	for name, ids := range want {
		got, err := recs[name].WaitForDeliveries(ctxT(t), len(ids))
		require.NoError(t, err, name)
		var s string
		for _, d := range got {
			s += d.Event.ID
		}
		assert.Equal(t, ids, s, name)
	}
	require.NoError(t, r.stop(t))
}

func TestParseStartAt(t *testing.T) {
	t.Parallel()
	at, err := pipeline.ParseStartAt("2026-01-02T03:04:05Z")
	require.NoError(t, err)
	assert.Equal(t, "2026-01-02T03:04:05Z", at.String())
	for _, s := range []string{"oldest", "newest"} {
		at, err := pipeline.ParseStartAt(s)
		require.NoError(t, err)
		assert.Equal(t, s, at.String())
	}
	_, err = pipeline.ParseStartAt("yesterday")
	require.ErrorIs(t, err, pipeline.ErrInvalidStartAt)
}
