package kvpsink_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluice-dev/sluice/pipeline"
)

const scope = "github.com/sluice-dev/sluice/sinks/kvpsink"

// lockedBuffer is a bytes.Buffer safe for the logger and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTelemetry(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(t.Context()) })
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	logs := &lockedBuffer{}
	set := pipeline.NopSettings("host")
	set.MeterProvider, set.TracerProvider = mp, tp
	set.Logger = slog.New(slog.NewJSONHandler(logs, nil))

	cfg := testConfig(t)
	cfg.MaxFileBytes = 64 << 10
	s := startSink(t, cfg, set)
	long := delivery("long", map[string]string{"kvpname": strings.Repeat("n", 300)}, strings.Repeat("x", 3000))
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{delivery("a", nil, "x"), long}))
	var fill []pipeline.Delivery
	for i := range 30 {
		fill = append(fill, delivery(string(rune('A'+i)), nil, "y"))
	}
	require.Error(t, s.Deliver(t.Context(), fill), "the pool fills up")

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	assert.Equal(t, scope, rm.ScopeMetrics[0].Scope.Name)
	sums := map[string]int64{}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, dp := range d.DataPoints {
				sink, _ := dp.Attributes.Value("sink")
				assert.Equal(t, "host", sink.AsString(), m.Name)
				key := m.Name
				if f, ok := dp.Attributes.Value("field"); ok {
					key += "/" + f.AsString()
				}
				sums[key] += dp.Value
			}
		case metricdata.Gauge[int64]:
			require.Len(t, d.DataPoints, 1)
			assert.Equal(t, int64(25*2560), d.DataPoints[0].Value, m.Name)
		case metricdata.Histogram[float64]:
			require.Len(t, d.DataPoints, 1)
			assert.Equal(t, uint64(2), d.DataPoints[0].Count, m.Name)
		}
	}
	assert.Equal(t, map[string]int64{
		"sluice.sink.kvp.events":         2 + 20,
		"sluice.sink.kvp.records":        1 + 4 + 20, // 3000 bytes make 4 slices; 25 records fill 64KiB
		"sluice.sink.kvp.written":        25 * 2560,
		"sluice.sink.kvp.rejected":       10,
		"sluice.sink.kvp.truncated/name": 1,
	}, sums)

	ended := spans.Ended()
	require.Len(t, ended, 2)
	assert.Equal(t, "kvp.append", ended[0].Name())
	assert.Equal(t, scope, ended[0].InstrumentationScope().Name)
	attrs := map[string]any{}
	for _, a := range ended[0].Attributes() {
		attrs[string(a.Key)] = a.Value.AsInterface()
	}
	assert.Equal(t, int64(5), attrs["kvp.records"])
	assert.Equal(t, int64(2), attrs["kvp.events"])

	out := logs.String()
	assert.Contains(t, out, `"msg":"kvp sink cut event fields to fit their caps"`)
	assert.Contains(t, out, `"fields":"name"`)
	assert.Contains(t, out, `"msg":"kvp pool file full; events dead-lettered until it is emptied at the next boot"`)
}
