package journal_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestTelemetry(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	var logs bytes.Buffer
	j := journaltest.MustOpenWith(t, t.TempDir(), journal.Options{
		SegmentMaxBytes: 32 << 10, RetentionMaxBytes: 96 << 10, FullPolicy: journal.FullPolicyDropOldest,
		MeterProvider: mp, TracerProvider: tp, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	_, err := j.Cursor(ctxT(t), "stuck")
	require.NoError(t, err)
	appendN(t, j, 60, 10)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	got := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, "github.com/sluice-dev/sluice/journal", sm.Scope.Name)
		for _, m := range sm.Metrics {
			got[m.Name] = m.Data
		}
	}
	sum := func(name string) int64 {
		s, ok := got[name].(metricdata.Sum[int64])
		require.True(t, ok, name)
		var n int64
		for _, dp := range s.DataPoints {
			n += dp.Value
		}
		return n
	}
	assert.Equal(t, int64(600), sum("sluice.journal.appended"))
	assert.Positive(t, sum("sluice.journal.appended.bytes"))
	assert.Positive(t, sum("sluice.journal.retention.removed"))
	assert.Equal(t, int64(stats(t, j).Dropped), sum("sluice.journal.dropped"))
	for _, name := range []string{"sluice.journal.commit.duration", "sluice.journal.commit.group.size", "sluice.journal.segments", "sluice.journal.size"} {
		assert.Contains(t, got, name)
	}
	g, ok := got["sluice.journal.segments"].(metricdata.Gauge[int64])
	require.True(t, ok)
	assert.Equal(t, int64(len(stats(t, j).Segments)), g.DataPoints[0].Value)

	ended := spans.Ended()
	require.Len(t, ended, 60)
	assert.Equal(t, "journal.append", ended[0].Name())
	assert.Contains(t, logs.String(), "rotated segment")
	assert.Contains(t, logs.String(), "retention removed segment")
	assert.Contains(t, logs.String(), "dropped records")
	_ = pipeline.ErrJournalFull
}
