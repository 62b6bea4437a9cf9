package httpsource_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources/httpsource"
)

const scope = "github.com/sluice-dev/sluice/sources/httpsource"

func TestTraceParent(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	srv := startServer(t, withSettings(func(s *pipeline.Settings) { s.TracerProvider = tp }))

	const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	const own = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ownEvent := `{"specversion":"1.0","id":"own","source":"/s","type":"t","traceparent":"` + own + `"}`
	require.Equal(t, http.StatusAccepted, srv.do(t, structured(validEvent)).status)
	require.Equal(t, http.StatusAccepted, srv.do(t, withHeader(structured(validEvent), "traceparent", incoming)).status)
	require.Equal(t, http.StatusAccepted, srv.do(t, withHeader(structured(ownEvent), "traceparent", incoming)).status)

	ended := spans.Ended()
	require.Len(t, ended, 3)
	evs := srv.host.Events()
	require.Len(t, evs, 3)

	// No incoming context: the request span's context is stamped.
	sc := ended[0].SpanContext()
	assert.Equal(t, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01", evs[0].TraceParent)
	assert.Equal(t, "POST /events", ended[0].Name())
	assert.Equal(t, scope, ended[0].InstrumentationScope().Name)

	// An incoming traceparent header parents the request span.
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", ended[1].SpanContext().TraceID().String())
	assert.Equal(t, "b7ad6b7169203331", ended[1].Parent().SpanID().String())
	assert.True(t, strings.HasPrefix(evs[1].TraceParent, "00-0af7651916cd43dd8448eb211c80319c-"), evs[1].TraceParent)
	assert.NotContains(t, evs[1].TraceParent, "b7ad6b7169203331", "the event points at the request span, not its parent")

	// The event's own traceparent is kept.
	assert.Equal(t, own, evs[2].TraceParent)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(t.Context()) })
	srv := startServer(t, withSettings(func(s *pipeline.Settings) { s.MeterProvider = mp }))

	require.Equal(t, http.StatusAccepted, srv.do(t, batched(`[`+validEvent+`,`+validEvent+`]`)).status)
	require.Equal(t, http.StatusAccepted, srv.do(t, structured(validEvent)).status)
	require.Equal(t, http.StatusBadRequest, srv.do(t, structured(`{}`)).status)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	byName := map[string]metricdata.Metrics{}
	scopes := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			byName[m.Name] = m
			scopes[m.Name] = sm.Scope.Name
		}
	}
	assert.Equal(t, scope, scopes["sluice.source.http.events.received"])

	// Requests by status, under the HTTP semantic conventions (they were
	// sluice.source.http.requests and .request.duration).
	duration := byName["http.server.request.duration"].Data.(metricdata.Histogram[float64])
	assert.Equal(t, "s", byName["http.server.request.duration"].Unit)
	byStatus := map[int64]uint64{}
	for _, dp := range duration.DataPoints {
		code, ok := dp.Attributes.Value("http.response.status_code")
		require.True(t, ok)
		src, _ := dp.Attributes.Value("source")
		assert.Equal(t, "web", src.AsString())
		typ, _ := dp.Attributes.Value("source_type")
		assert.Equal(t, "http", typ.AsString())
		method, _ := dp.Attributes.Value("http.request.method")
		assert.Equal(t, "POST", method.AsString())
		byStatus[code.AsInt64()] += dp.Count
	}
	assert.Equal(t, map[int64]uint64{202: 2, 400: 1}, byStatus)
	assert.Contains(t, byName, "http.server.request.body.size")

	events := byName["sluice.source.http.events.received"].Data.(metricdata.Sum[int64])
	require.Len(t, events.DataPoints, 1)
	assert.Equal(t, int64(3), events.DataPoints[0].Value)
}

// syncBuffer is a bytes.Buffer safe for the logger and the test.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func TestLogsNeverShowToken(t *testing.T) {
	t.Parallel()
	logs := newSyncBuffer()
	srv := startServer(t,
		withConfig(func(c *httpsource.Config) { c.Token = "tok-SECRET-123" }),
		withSettings(func(s *pipeline.Settings) {
			s.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}))
	srv.do(t, withHeader(structured(validEvent), "Authorization", "Bearer tok-SECRET-123"))
	srv.do(t, withHeader(structured(validEvent), "Authorization", "Bearer tok-SECRET-124"))
	srv.host.SetError(pipeline.ErrJournalFull)
	srv.do(t, withHeader(structured(validEvent), "Authorization", "Bearer tok-SECRET-123"))
	require.NoError(t, srv.stop())

	out := logs.String()
	assert.Contains(t, out, `"status":401`)
	assert.Contains(t, out, `"status":503`)
	assert.NotContains(t, out, "SECRET")
}
