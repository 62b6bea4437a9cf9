package probesource

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/pipeline"
)

// The state gauge has no unit: it was "1", which Prometheus renders as a
// ratio (sluice_source_probe_state_ratio).
func TestStateGaugeHasNoUnit(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	set := pipeline.NopSettings("probes")
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tel, err := newTelemetry(set)
	require.NoError(t, err)
	p := &probe{attrs: tel.attrsFor("web", "http")}
	unregister, err := tel.observeStates([]*probe{p})
	require.NoError(t, err)
	t.Cleanup(func() { _ = unregister() })
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == metricState {
				found = true
				assert.Empty(t, m.Unit)
				g := m.Data.(metricdata.Gauge[int64])
				require.Len(t, g.DataPoints, 1)
				assert.Equal(t, int64(-1), g.DataPoints[0].Value, "unknown until the first check")
			}
		}
	}
	assert.True(t, found)
}
