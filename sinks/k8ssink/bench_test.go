package k8ssink_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/internal/otlptest"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

// BenchmarkEventSeries delivers b.N warning events about 10 nodes (10
// isomorphic series) to the real kube-apiserver, in batches of 1 (a slow
// stream: one request per event) and 100 (under load: one request per
// series per batch), and reports events/s, API requests per event (the
// sink's sluice.sink.k8s.requests) and the test process's peak RSS.
func BenchmarkEventSeries(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			for i := range 10 {
				node := fmt.Sprintf("bench-%d-%d-%d", batch, b.N, i)
				newNode(b, node)
			}
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			f := k8ssink.NewFactory()
			cfg := f.DefaultConfig().(*k8ssink.Config)
			cfg.Kubeconfig, cfg.QPS, cfg.Burst = sluiceKubeconfig, 1000, 1000
			eventRule(cfg)
			set := pipeline.NopSettings("k8s")
			set.MeterProvider = mp
			s, err := f.NewSink(b.Context(), set, cfg)
			require.NoError(b, err)
			require.NoError(b, s.Start(b.Context()))
			b.Cleanup(func() { _ = s.Close(context.Background()) })
			t0 := time.Now()
			all := make([]pipeline.Delivery, b.N)
			for i := range all {
				node := fmt.Sprintf("bench-%d-%d-%d", batch, b.N, i%10)
				all[i] = delivery(uint64(i+1), "sluice.probe.state", node, pipeline.SeverityWarning, t0.Add(time.Duration(i)*time.Millisecond))
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < len(all); i += batch {
				require.NoError(b, s.Deliver(b.Context(), all[i:min(i+batch, len(all))]))
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			b.StopTimer()
			var rm metricdata.ResourceMetrics
			require.NoError(b, reader.Collect(b.Context(), &rm))
			var requests int64
			for _, m := range otlptest.Scope(&rm, "github.com/sluice-dev/sluice/sinks/k8ssink") {
				if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "sluice.sink.k8s.requests" {
					for _, dp := range sum.DataPoints {
						requests += dp.Value
					}
				}
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/event")
			b.ReportMetric(procStatusMB(b, "VmHWM"), "peak-RSS-MB")
		})
	}
}

// procStatusMB returns a kB field of /proc/self/status in MB.
func procStatusMB(b *testing.B, field string) float64 {
	b.Helper()
	st, err := os.ReadFile("/proc/self/status")
	require.NoError(b, err)
	for _, line := range strings.Split(string(st), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			require.NoError(b, err)
			return kb / 1000
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
