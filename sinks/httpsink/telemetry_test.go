package httpsink_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/otlptest"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

func TestTraceContext(t *testing.T) {
	t.Parallel()
	p := newPeer(t, nil)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { assert.NoError(t, tp.Shutdown(context.Background())) })
	set := pipeline.NopSettings("collector")
	set.TracerProvider = tp
	s := startSink(t, set, p.config(httpsink.ModeStructured))

	ctx, parent := tp.Tracer("runner").Start(t.Context(), "sink.deliver")
	require.NoError(t, s.Deliver(ctx, pipelinetest.SampleDeliveries(1, 2)))
	parent.End()

	var clients []sdktrace.ReadOnlySpan
	for _, sp := range spans.Ended() {
		if sp.SpanKind() == trace.SpanKindClient {
			clients = append(clients, sp)
		}
	}
	require.Len(t, clients, 2, "one client span per request")
	for i, r := range p.Requests() {
		sc := clients[i].SpanContext()
		assert.Equal(t, parent.SpanContext().TraceID(), sc.TraceID())
		assert.Equal(t, parent.SpanContext().SpanID(), clients[i].Parent().SpanID())
		assert.Equal(t, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01", r.Header.Get("Traceparent"),
			"request %d carries its client span", i)
		assert.Equal(t, "POST", clients[i].Name())
		attrs := attribute.NewSet(clients[i].Attributes()...)
		status, _ := attrs.Value("http.response.status_code")
		assert.Equal(t, int64(200), status.AsInt64())
		u, _ := attrs.Value("url.full")
		assert.Equal(t, p.srv.URL+"/events", u.AsString(), "no query in spans")
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	p := newPeer(t, func(_ *http.Request, _ *received, n int) (int, string) {
		if n == 0 {
			return http.StatusServiceUnavailable, ""
		}
		return http.StatusOK, ""
	})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { assert.NoError(t, mp.Shutdown(context.Background())) })
	set := pipeline.NopSettings("collector")
	set.MeterProvider = mp
	s := startSink(t, set, p.config(httpsink.ModeBatch))
	batch := pipelinetest.SampleDeliveries(1, 3)
	require.Error(t, s.Deliver(t.Context(), batch))
	require.NoError(t, s.Deliver(t.Context(), batch))

	rm := otlptest.CollectClientRequests(t, reader, 2)
	// Requests are measured under the HTTP client semantic conventions
	// too, labelled with the sink's name and type.
	sets, n := otlptest.HistogramPoints(rm, otlptest.ClientRequestsMetric)
	assert.Equal(t, uint64(2), n)
	for _, set := range sets {
		sink, _ := set.Value("sink")
		typ, _ := set.Value("sink_type")
		assert.Equal(t, "collector/http", sink.AsString()+"/"+typ.AsString())
	}
	got := map[string]metricdata.Aggregation{}
	for _, m := range otlptest.Scope(rm, "github.com/sluice-dev/sluice/sinks/httpsink") {
		got[m.Name] = m.Data
	}

	requests, ok := got["sluice.sink.http.requests"].(metricdata.Sum[int64])
	require.True(t, ok)
	byClass := map[string]int64{}
	for _, dp := range requests.DataPoints {
		class, _ := dp.Attributes.Value("status_class")
		sink, _ := dp.Attributes.Value("sink")
		assert.Equal(t, "collector", sink.AsString())
		byClass[class.AsString()] += dp.Value
	}
	assert.Equal(t, map[string]int64{"2xx": 1, "5xx": 1}, byClass)

	duration, ok := got["sluice.sink.http.request.duration"].(metricdata.Histogram[float64])
	require.True(t, ok)
	var count uint64
	for _, dp := range duration.DataPoints {
		count += dp.Count
	}
	assert.Equal(t, uint64(2), count)

	sent, ok := got["sluice.sink.http.sent"].(metricdata.Sum[int64])
	require.True(t, ok)
	require.Len(t, sent.DataPoints, 1)
	var bodies int64
	for _, r := range p.Requests() {
		bodies += int64(len(r.Body))
	}
	assert.Equal(t, bodies, sent.DataPoints[0].Value)
}
