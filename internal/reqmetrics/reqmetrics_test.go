package reqmetrics_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/internal/reqmetrics"
)

func TestRecordCountsAndTimesWithTheSameAttributes(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m, err := reqmetrics.New(provider.Meter("test"), "sluice.sink.x", reqmetrics.Descriptions{Requests: "r", Duration: "d"})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a cancelled caller still has its request counted
	m.Record(ctx, 0.003, attribute.String("sink", "s"), attribute.String("status_class", "2xx"))
	m.Record(ctx, 0.2, attribute.String("sink", "s"), attribute.String("status_class", "5xx"))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	byName := map[string]metricdata.Metrics{}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		byName[m.Name] = m
	}
	requests := byName["sluice.sink.x.requests"]
	assert.Equal(t, "{request}", requests.Unit)
	sum := requests.Data.(metricdata.Sum[int64])
	require.Len(t, sum.DataPoints, 2)
	duration := byName["sluice.sink.x.request.duration"]
	assert.Equal(t, "s", duration.Unit)
	hist := duration.Data.(metricdata.Histogram[float64])
	require.Len(t, hist.DataPoints, 2)
	for _, p := range hist.DataPoints {
		class, _ := p.Attributes.Value("status_class")
		assert.Equal(t, uint64(1), p.Count, class.AsString())
		assert.Equal(t, reqmetrics.DurationBuckets(), p.Bounds)
	}
}

func TestDurationBuckets(t *testing.T) {
	t.Parallel()
	b := reqmetrics.DurationBuckets()
	assert.IsIncreasing(t, b)
	assert.InDelta(t, 0.0005, b[0], 0)
	assert.InDelta(t, 10.0, b[len(b)-1], 0)
	b[0] = 42
	assert.InDelta(t, 0.0005, reqmetrics.DurationBuckets()[0], 0, "each call returns a new slice")
}
