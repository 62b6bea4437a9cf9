package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluice-dev/sluice/pipeline"
)

// spansNamed waits until rec has ended n spans named name and returns them.
func spansNamed(t *testing.T, rec *tracetest.SpanRecorder, name string, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	var out []sdktrace.ReadOnlySpan
	require.Eventually(t, func() bool {
		out = out[:0]
		for _, s := range rec.Ended() {
			if s.Name() == name {
				out = append(out, s)
			}
		}
		return len(out) >= n
	}, 5*time.Second, time.Millisecond, "%d %s spans", n, name)
	return out
}

// The route and deliver spans of a batch from one emit are children of
// the event's traceparent (here the emit span), so one trace shows every
// stage; events of different traces make them new roots linked to each.
// Before, sink.deliver was always a root with links, and there was no
// route span.
func TestStageSpansJoinTheEventsTrace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	out := h.recording("out")
	rec := tracetest.NewSpanRecorder()
	set := pipeline.NopSettings("test")
	set.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	r := h.startWith(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "all", From: []string{"in"}, To: []string{"out"}}},
	}, set)

	h.sources["in"].emit(t, events("one", 2)...)
	_, err := out.WaitForDeliveries(ctxT(t), 2)
	require.NoError(t, err)
	emit := spansNamed(t, rec, "source.emit", 1)[0]
	for _, name := range []string{"sink.route", "sink.deliver"} {
		s := spansNamed(t, rec, name, 1)[0]
		assert.Equal(t, emit.SpanContext().TraceID(), s.SpanContext().TraceID(), name)
		assert.Equal(t, emit.SpanContext().SpanID(), s.Parent().SpanID(), "%s is a child of the event's span", name)
		assert.Empty(t, s.Links(), name)
	}

	const tpA = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const tpB = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	mixed := events("two", 3)
	mixed[0].TraceParent, mixed[1].TraceParent, mixed[2].TraceParent = tpA, tpB, tpA
	h.sources["in"].emit(t, mixed...)
	_, err = out.WaitForDeliveries(ctxT(t), 5)
	require.NoError(t, err)
	for _, name := range []string{"sink.route", "sink.deliver"} {
		s := spansNamed(t, rec, name, 2)[1]
		assert.False(t, s.Parent().IsValid(), "%s of two traces is a root", name)
		require.Len(t, s.Links(), 2, "%s: one link per distinct trace context", name)
		assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", s.Links()[0].SpanContext.TraceID().String())
		assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", s.Links()[1].SpanContext.TraceID().String())
	}
	require.NoError(t, r.stop(t))
}

// Every configured component's counters exist at zero before anything
// happened, labelled with the component's name and type.
func TestCountersStartAtZero(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sources["in"] = newScriptSource(nil)
	h.recording("out")
	reader := sdkmetric.NewManualReader()
	set := pipeline.NopSettings("test")
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	r := h.startWith(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &emptyConfig{}}},
		Routes:  []pipeline.RouteSpec{{Name: "all", From: []string{"in"}, To: []string{"out"}}},
	}, set)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	points := map[string][]attribute.Set{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					assert.Zero(t, dp.Value, m.Name)
					points[m.Name] = append(points[m.Name], dp.Attributes)
				}
			}
		}
	}
	has := func(name string, kv ...attribute.KeyValue) {
		t.Helper()
		want := attribute.NewSet(kv...)
		for _, s := range points[name] {
			if s.Equals(&want) {
				return
			}
		}
		t.Errorf("no zero point of %s with %v; have %v", name, want.Encoded(attribute.DefaultEncoder()), points[name])
	}
	src := []attribute.KeyValue{attribute.String("source", "in"), attribute.String("source_type", "script")}
	snk := []attribute.KeyValue{attribute.String("sink", "out"), attribute.String("sink_type", "recording")}
	has("sluice.source.events", src...)
	has("sluice.source.emit.errors", append(src, attribute.String("reason", "full"))...)
	has("sluice.sink.delivered", snk...)
	has("sluice.sink.retries", snk...)
	has("sluice.sink.dead_lettered", snk...)
	for _, kind := range []string{"transient", "permanent", "partial"} {
		has("sluice.sink.failures", append(snk, attribute.String("kind", kind))...)
	}
	assert.NotContains(t, points, "sluice.sink.throttled", "no throttle configured")
	require.NoError(t, r.stop(t))
}
