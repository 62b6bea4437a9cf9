package vmfaultsource

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/internal/fakenova"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// sums returns each counter's total by its "reason"/"result" attribute
// ("" when it has none).
func sums(t *testing.T, reader *sdkmetric.ManualReader) map[string]map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			s, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			out[m.Name] = map[string]int64{}
			for _, dp := range s.DataPoints {
				key := ""
				for _, k := range []string{"reason", "result"} {
					if v, ok := dp.Attributes.Value(attribute.Key(k)); ok {
						key = v.AsString()
					}
				}
				out[m.Name][key] += dp.Value
			}
		}
	}
	return out
}

// Polls, failed attempts by reason, raises, clears by reason and unknown
// records are counted.
func TestMetrics(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	f.Put(fakenova.Server{ID: idB, DownCell: true})
	f.Inject(fakenova.RouteList,
		fakenova.Reply{Status: http.StatusTooManyRequests, RetryAfter: "0", Sample: "nova-429-overLimit.json"},
		fakenova.Reply{Status: http.StatusInternalServerError, Body: `{}`},
		fakenova.Reply{Status: http.StatusOK, Body: `{"servers": 1}`})
	reader := sdkmetric.NewManualReader()
	set := pipeline.NopSettings("vmf")
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	r := run(t, osConfig(f, WatchEntry{All: true}), pipelinetest.NewRecordingHost("vmf"), set)
	events(t, r.host, 1)
	f.Delete(idA)
	events(t, r.host, 2)
	waitCount(t, f, fakenova.RouteList, 1)
	r.stop()
	got := sums(t, reader)
	assert.Equal(t, int64(1), got[metricErrors]["rate_limited"])
	assert.Equal(t, int64(1), got[metricErrors]["status_5xx"])
	assert.Equal(t, int64(1), got[metricErrors]["malformed"])
	assert.GreaterOrEqual(t, got[metricPolls]["ok"], int64(2))
	assert.Equal(t, int64(1), got[metricRaised][""])
	assert.Equal(t, int64(1), got[metricCleared][ClearDeleted])
	assert.GreaterOrEqual(t, got[metricUnknown][""], int64(1))
}
