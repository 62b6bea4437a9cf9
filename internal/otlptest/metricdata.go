package otlptest

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// HistogramPoints returns the points of the float64 histogram named name
// in rm, whatever its scope: their attribute sets and their total count.
func HistogramPoints(rm *metricdata.ResourceMetrics, name string) (sets []attribute.Set, count uint64) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				for _, dp := range h.DataPoints {
					sets = append(sets, dp.Attributes)
					count += dp.Count
				}
			}
		}
	}
	return sets, count
}

// Scope returns the metrics of the instrumentation scope named name in
// rm (nil if none).
func Scope(rm *metricdata.ResourceMetrics, name string) []metricdata.Metrics {
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name == name {
			return sm.Metrics
		}
	}
	return nil
}

// ClientRequestsMetric is otelhttp's histogram of HTTP client requests.
const ClientRequestsMetric = "http.client.request.duration"

// CollectClientRequests collects reader's metrics once the
// ClientRequestsMetric histogram counts at least want requests, or after
// 10 s (the caller then checks the count). otelhttp records a request
// that has a body only once the transport closed that body, which its
// write loop may do after the response came back: a collect right after
// the last request may miss that one.
func CollectClientRequests(t testing.TB, reader sdkmetric.Reader, want uint64) *metricdata.ResourceMetrics {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatalf("collect metrics: %v", err)
		}
		if _, n := HistogramPoints(&rm, ClientRequestsMetric); n >= want || time.Now().After(deadline) {
			return &rm
		}
		time.Sleep(10 * time.Millisecond)
	}
}
