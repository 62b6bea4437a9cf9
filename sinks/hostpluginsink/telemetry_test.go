package hostpluginsink_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluice-dev/sluice/internal/otlptest"
	"github.com/sluice-dev/sluice/pipeline"
)

const scope = "github.com/sluice-dev/sluice/sinks/hostpluginsink"

// TestTelemetry checks the metrics, spans and logs of a short story:
// a report taken, one refused by a 502 from upstream, a suppressed
// event, and a channel turning unhealthy and back.
func TestTelemetry(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = mp.Shutdown(t.Context()); _ = tp.Shutdown(t.Context()) })
	var logs bytes.Buffer
	srv := newCaptureServer(t)
	srv.setAnswer(func(n int) answer {
		if n == 1 {
			return answer{status: 502, body: "upstream timeout"}
		}
		return answer{status: 200}
	})
	clock := newFakeClock(epoch)
	set := pipeline.Settings{
		ID: "host-health", Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		TracerProvider: tp, MeterProvider: mp, Clock: clock,
	}
	s := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	at := func(m int) time.Time { return epoch.Add(time.Duration(m) * time.Minute) }

	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(0), false)}))                  // reported healthy (error state)
	require.Error(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(1), false)}))                    // 502
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(1), false)}))                  // retried, taken
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(1).Add(time.Second), false)})) // suppressed
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(5), false)}))                  // unhealthy
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(at(6), true)}))                   // healthy again

	rm := otlptest.CollectClientRequests(t, reader, 5)
	// Requests are measured under the HTTP client semantic conventions
	// too, labelled with the sink's name and type.
	sets, n := otlptest.HistogramPoints(rm, otlptest.ClientRequestsMetric)
	assert.Equal(t, uint64(5), n)
	for _, set := range sets {
		sink, _ := set.Value("sink")
		typ, _ := set.Value("sink_type")
		assert.Equal(t, "host-health/hostplugin", sink.AsString()+"/"+typ.AsString())
	}
	sums := map[string]int64{}
	for _, m := range otlptest.Scope(rm, scope) {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
			for _, dp := range sum.DataPoints {
				sums[m.Name+"{"+attrString(dp.Attributes)+"}"] += dp.Value
			}
		}
	}
	assert.Equal(t, map[string]int64{
		"sluice.sink.hostplugin.requests{class=delivered,sink=host-health,status_class=2xx}":                                         4,
		"sluice.sink.hostplugin.requests{class=transient,origin=upstream,sink=host-health,status_class=5xx}":                         1,
		"sluice.sink.hostplugin.observations{healthy=true,observation=GuestAgentPluginHeartbeat,outcome=reported,sink=host-health}":  3,
		"sluice.sink.hostplugin.observations{healthy=false,observation=GuestAgentPluginHeartbeat,outcome=reported,sink=host-health}": 1,
		"sluice.sink.hostplugin.observations{observation=GuestAgentPluginHeartbeat,outcome=suppressed,sink=host-health}":             1,
	}, sums)

	ended := spans.Ended()
	require.Len(t, ended, 5)
	assert.Equal(t, "POST /HealthService", ended[1].Name())
	assert.Equal(t, scope, ended[1].InstrumentationScope().Name)
	attrs := map[attribute.Key]string{}
	for _, kv := range ended[1].Attributes() {
		attrs[kv.Key] = kv.Value.String()
	}
	assert.Equal(t, "upstream", attrs["sluice.hostplugin.origin"])
	assert.Equal(t, "502", attrs["http.response.status_code"])
	assert.Equal(t, "GuestAgentPluginHeartbeat", attrs["sluice.hostplugin.observation"])

	out := logs.String()
	assert.Contains(t, out, "reported healthy until the error state is reached")
	assert.Contains(t, out, `msg="hostplugin observation reported unhealthy" observation=GuestAgentPluginHeartbeat failing_for=5m0s error_state=5m0s`)
	assert.Contains(t, out, "hostplugin observation reported healthy again")
	assert.Equal(t, 1, strings.Count(out, "reported unhealthy"))
}

func attrString(set attribute.Set) string {
	var parts []string
	for _, kv := range set.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}
