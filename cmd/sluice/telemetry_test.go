package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/trace"

	"github.com/sluice-dev/sluice/internal/otlptest"
	"github.com/sluice-dev/sluice/pipeline"
)

// clearOTelEnv unsets every variable these tests set, for the test.
func clearOTelEnv(t *testing.T) {
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"} {
		t.Setenv(k, "")
	}
}

// Traces and metrics reach a real OTLP receiver over both protocols,
// chosen by OTEL_EXPORTER_OTLP_PROTOCOL, with the resource from
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over sluice's own.
func TestTelemetryExportsOTLP(t *testing.T) {
	for _, proto := range []string{"grpc", "http/protobuf"} {
		t.Run(strings.ReplaceAll(proto, "/", "-"), func(t *testing.T) {
			clearOTelEnv(t)
			rcv := otlptest.NewReceiver()
			endpoint := rcv.ServeHTTP(t)
			if proto == "grpc" {
				endpoint = rcv.ServeGRPC(t)
			}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", proto)
			t.Setenv("OTEL_SERVICE_NAME", "edge-sluice")
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test,team=infra")
			tel, err := newTelemetry(t.Context(), pipeline.NopSettings("t").Logger, io.Discard)
			require.NoError(t, err)

			tracer := tel.tracers.Tracer("test")
			ctx, parent := tracer.Start(context.Background(), "parent")
			_, child := tracer.Start(ctx, "child")
			child.End()
			parent.End()
			c, err := tel.meters.Meter("test").Int64Counter("test.counter")
			require.NoError(t, err)
			c.Add(ctx, 3, metric.WithAttributes())
			require.NoError(t, tel.shutdown(t.Context()))

			require.True(t, rcv.Wait(t.Context(), 10*time.Second, func(r *otlptest.Receiver) bool {
				return len(r.Spans()) == 2 && len(r.Metrics()) > 0
			}), "spans %d, metrics %d", len(rcv.Spans()), len(rcv.Metrics()))
			spans := rcv.Spans()
			assert.Equal(t, "child", spans[0].GetName())
			assert.Equal(t, spans[1].GetSpanId(), spans[0].GetParentSpanId(), "child's parent link")
			res := spans[0].Resource
			assert.Equal(t, "edge-sluice", res["service.name"])
			assert.Equal(t, version, res["service.version"])
			assert.Equal(t, "test", res["deployment.environment.name"])
			assert.Equal(t, "infra", res["team"])
			assert.NotEmpty(t, res["host.name"])
			assert.NotEmpty(t, res["telemetry.sdk.version"])
			assert.Equal(t, "edge-sluice", otlptest.Strings(rcv.Metrics()[0].GetResource().GetAttributes())["service.name"])
		})
	}
}

// Without an exporter or an endpoint nothing is exported and spans are
// free, but an incoming trace context still propagates.
func TestTelemetryOffByDefault(t *testing.T) {
	clearOTelEnv(t)
	tel, err := newTelemetry(t.Context(), pipeline.NopSettings("t").Logger, io.Discard)
	require.NoError(t, err)
	assert.Nil(t, tel.sdk)
	_, span := tel.tracers.Tracer("t").Start(context.Background(), "s")
	assert.False(t, span.IsRecording())
	_, isSDK := tel.tracers.(*trace.TracerProvider)
	assert.False(t, isSDK)
	require.NoError(t, tel.shutdown(t.Context()))

	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	tel, err = newTelemetry(t.Context(), pipeline.NopSettings("t").Logger, io.Discard)
	require.NoError(t, err)
	assert.Nil(t, tel.sdk, "OTEL_SDK_DISABLED wins")
}

func TestTelemetryEnvErrors(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"OTEL_TRACES_EXPORTER", "zipkin", `OTEL_TRACES_EXPORTER: unsupported exporter "zipkin"`},
		{"OTEL_METRICS_EXPORTER", "otlp,statsd", `OTEL_METRICS_EXPORTER: unsupported exporter "statsd"`},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", `OTEL_EXPORTER_OTLP_PROTOCOL="http/json": want grpc or http/protobuf`},
		{"OTEL_RESOURCE_ATTRIBUTES", "team", "OTEL_RESOURCE_ATTRIBUTES"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			clearOTelEnv(t)
			t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
			t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
			t.Setenv(tc.key, tc.value)
			_, err := newTelemetry(t.Context(), pipeline.NopSettings("t").Logger, io.Discard)
			require.ErrorIs(t, err, ErrTelemetryEnv)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// The Prometheus exposition carries no otel_scope_* labels, and the
// resource only once, in target_info.
func TestPrometheusWithoutScopeLabels(t *testing.T) {
	clearOTelEnv(t)
	tel, err := newTelemetry(t.Context(), pipeline.NopSettings("t").Logger, io.Discard)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.shutdown(context.Background()) })
	c, err := tel.meters.Meter("github.com/sluice-dev/sluice/pipeline").Int64Counter("sluice.sink.delivered", metric.WithUnit("{event}"))
	require.NoError(t, err)
	c.Add(context.Background(), 0)
	srv := httptest.NewServer(tel.metricsHandler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	body := string(b)
	assert.Contains(t, body, "sluice_sink_delivered_total 0")
	assert.NotContains(t, body, "otel_scope_")
	assert.Contains(t, body, `target_info{`)
	assert.Contains(t, body, `service_name="sluice"`)
}

// An unreachable collector is logged once per interval, not per batch.
func TestExportErrorLogIsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	h := newExportErrorLog(slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Unix(0, 0)
	h.now = func() time.Time { return now }
	for range 5 {
		h.Handle(io.ErrUnexpectedEOF)
	}
	now = now.Add(telemetryErrorEvery)
	h.Handle(io.ErrUnexpectedEOF)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "suppressed_since_last_log=0")
	assert.Contains(t, lines[1], "suppressed_since_last_log=4")
}
