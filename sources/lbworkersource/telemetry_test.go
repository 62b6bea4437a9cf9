package lbworkersource_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// TestRequestMetricsAndSpans: the request counter and histogram carry
// source, transport, action and outcome (from the attribute sets built
// once), and each request is a span only when a tracer provider records.
func TestRequestMetricsAndSpans(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = mp.Shutdown(t.Context()); _ = tp.Shutdown(t.Context()) })
	set := pipeline.NopSettings("lb-tel")
	set.MeterProvider, set.TracerProvider = mp, tp
	r := startSourceWith(t, set, httpConfig(), pipelinetest.NewRecordingHost("lb-tel"))
	for r.src.Addr() == nil {
		runtimeGosched()
	}
	url := "http://" + r.src.Addr().String() + "/lbaas"

	for range 2 {
		status, _ := post(t, url, "t0ken", "", benchUpdate)
		require.Equal(t, http.StatusOK, status)
	}
	status, _ := post(t, url, "t0ken", "", `{"hpcs_action":"UPDATE"}`)
	require.Equal(t, http.StatusBadRequest, status)
	status, _ = post(t, url, "t0ken", "", `{"hpcs_action":"nope"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	counts := map[string]int64{}
	durations := map[string]uint64{}
	key := func(s attribute.Set) string {
		get := func(k attribute.Key) string { v, _ := s.Value(k); return v.AsString() }
		assert.Equal(t, 4, s.Len(), "source, transport, action, outcome")
		return get("source") + " " + get("transport") + " " + get("action") + " " + get("outcome")
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case "sluice.source.lbworker.requests":
				for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
					counts[key(p.Attributes)] += p.Value
				}
			case "sluice.source.lbworker.request.duration":
				for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
					durations[key(p.Attributes)] += p.Count
				}
			}
		}
	}
	want := map[string]int64{
		"lb-tel http UPDATE pass":         2,
		"lb-tel http unknown bad_request": 1,
		"lb-tel http unknown fail":        1,
	}
	assert.Equal(t, want, counts)
	for k, n := range want {
		assert.Equal(t, uint64(n), durations[k], k)
	}

	var names []string
	for _, s := range spans.Ended() {
		if s.Name() == "lbworker.request" {
			names = append(names, s.Name())
		}
	}
	assert.Len(t, names, 4, "one span per request")
}
