package natsjournal_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
)

// A full DiscardNew stream refuses publishes: the agent keeps the backlog
// (cursor, backlog gauge, lag), counts the refusals as stream_full, and
// forwards the rest once the stream has room again.
func TestFullStreamKeepsBacklog(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	js := connect(t, srv.URL())
	sc := fleet.DefaultStreamConfig()
	jc := sc.JetStream()
	jc.MaxMsgs = 100
	stream, err := js.CreateStream(t.Context(), jc)
	require.NoError(t, err)

	reader := sdkmetric.NewManualReader()
	set := pipeline.NopSettings("journal")
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	s := open(t, agentConfig(t.TempDir(), srv.URL(), "vm-full"), set)
	appendN(t, s, 150)

	waitStream(t, js, 100)
	require.Eventually(t, func() bool {
		m := collect(t, reader)
		return sumOf(m, "sluice.fleet.forward.failures", "stream_full") > 0
	}, 10*time.Second, 20*time.Millisecond)
	next, err := s.Cursor(t.Context(), natsjournal.Consumer)
	require.NoError(t, err)
	assert.Equal(t, uint64(101), next, "the cursor stops at the first refused record")
	m := collect(t, reader)
	assert.Equal(t, int64(100), sumOf(m, "sluice.fleet.forward.published", ""))
	assert.Equal(t, int64(50), gaugeOf(m, "sluice.fleet.forward.backlog"))
	lag, ok := m["sluice.fleet.forward.lag"].(metricdata.Gauge[float64])
	require.True(t, ok)
	assert.Positive(t, lag.DataPoints[0].Value, "the refused records age")

	require.NoError(t, stream.Purge(t.Context(), jetstream.WithPurgeSequence(101)))
	got := waitStream(t, js, 50)
	assertConsecutive(t, got, 101, 150)
	require.Eventually(t, func() bool {
		return gaugeOf(collect(t, reader), "sluice.fleet.forward.backlog") == 0
	}, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, collect(t, reader), "sluice.fleet.forward.publish.duration")
	closeStore(t, s)
}

func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// sumOf adds a counter's points, those with the given reason if not "".
func sumOf(m map[string]metricdata.Aggregation, name, reason string) int64 {
	s, ok := m[name].(metricdata.Sum[int64])
	if !ok {
		return 0
	}
	var n int64
	for _, dp := range s.DataPoints {
		if v, _ := dp.Attributes.Value("reason"); reason == "" || v.AsString() == reason {
			n += dp.Value
		}
	}
	return n
}

func gaugeOf(m map[string]metricdata.Aggregation, name string) int64 {
	g, ok := m[name].(metricdata.Gauge[int64])
	if !ok || len(g.DataPoints) == 0 {
		return -1
	}
	return g.DataPoints[0].Value
}
