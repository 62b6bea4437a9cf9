package otlptest

import (
	"go.opentelemetry.io/otel/attribute"
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
