package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/pipeline"
)

// keyMatcher selects events whose extension key equals want; an event
// without the key cannot be evaluated, as a CEL `event.key == "x"` fails.
type keyMatcher struct{ key, want string }

func (m keyMatcher) Match(e *pipeline.Event) (bool, error) {
	v, ok := e.Extensions[m.key]
	if !ok {
		return false, errors.New("no such key: " + m.key)
	}
	return v == m.want, nil
}

// panicMatcher panics on every event.
type panicMatcher struct{}

func (panicMatcher) Match(*pipeline.Event) (bool, error) { panic("matcher bug") }

// counterValue sums the points of a counter named name whose attribute
// attr equals value.
func counterValue(t *testing.T, reader *sdkmetric.ManualReader, name, attr, value string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var sum int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if v, ok := dp.Attributes.Value(attribute.Key(attr)); attr == "" || ok && v.AsString() == value {
					sum += dp.Value
				}
			}
		}
	}
	return sum
}

// A route whose match fails on a missing key counts as no match: the
// next route to the same sink still delivers the event, and the error is
// counted per route. Before, the event was dead-lettered for the sink.
func TestMatchErrorIsNoMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("out")
	reader := sdkmetric.NewManualReader()
	set := pipeline.NopSettings("test")
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	r := h.startWith(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes: []pipeline.RouteSpec{
			{Name: "route1", From: []string{"in"}, To: []string{"out"}, Match: keyMatcher{"team", "db"}},
			{Name: "route2", From: []string{"in"}, To: []string{"out"}},
			{Name: "broken", From: []string{"in"}, To: []string{"out"}, Match: panicMatcher{}},
		},
	}, set)
	h.sources["in"].emit(t,
		pipeline.Event{ID: "no-key", Type: "t"},
		pipeline.Event{ID: "db", Type: "t", Extensions: map[string]string{"team": "db"}},
	)
	got, err := out.WaitForDeliveries(ctxT(t), 2)
	require.NoError(t, err)
	assert.Equal(t, "no-key", got[0].Event.ID)
	assert.Equal(t, "route2", got[0].Route, "the next route delivered it")
	assert.Equal(t, "route1", got[1].Route)
	assert.Equal(t, int64(1), counterValue(t, reader, "sluice.route.match_errors", "route", "route1"))
	n := 0
	require.NoError(t, r.journal.DeadLetters(ctxT(t), pipeline.DeadLetterFilter{}, func(pipeline.DeadLetter) error { n++; return nil }))
	assert.Zero(t, n, "nothing dead-lettered")
	require.NoError(t, r.stop(t))
}

// on_error: dead_letter keeps the old behaviour: the event is
// dead-lettered for the route's sinks with reason "match failed", and a
// panicking matcher is an error of the route, not a crash.
func TestMatchErrorDeadLetter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("out")
	r := h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes: []pipeline.RouteSpec{
			{Name: "route1", From: []string{"in"}, To: []string{"out"}, Match: keyMatcher{"team", "db"}, OnError: pipeline.OnErrorDeadLetter},
			{Name: "broken", From: []string{"in"}, To: []string{"out"}, Match: panicMatcher{}, OnError: pipeline.OnErrorDeadLetter},
		},
	})
	h.sources["in"].emit(t,
		pipeline.Event{ID: "no-key", Type: "t"},
		pipeline.Event{ID: "other", Type: "t", Extensions: map[string]string{"team": "web"}},
		pipeline.Event{ID: "db", Type: "t", Extensions: map[string]string{"team": "db"}},
	)
	got, err := out.WaitForDeliveries(ctxT(t), 1)
	require.NoError(t, err)
	assert.Equal(t, "db", got[0].Event.ID)
	letters := waitLetters(t, r.journal, pipeline.DeadLetterFilter{Sink: "out"}, 2)
	assert.Equal(t, "route1", letters[0].Route)
	assert.Equal(t, pipeline.ReasonMatchFailed, letters[0].Reason)
	assert.Equal(t, "broken", letters[1].Route)
	assert.Contains(t, letters[1].LastError, "panicked: matcher bug")
	require.NoError(t, r.stop(t))
}
