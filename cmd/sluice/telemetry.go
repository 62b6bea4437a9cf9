package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/sluice-dev/sluice/config"
)

// telemetryShutdownTimeout bounds the flush of buffered spans and metrics
// at exit, so that an unreachable collector cannot hold the process.
const telemetryShutdownTimeout = 5 * time.Second

// telemetry holds the process's OpenTelemetry providers and the
// Prometheus registry the admin listener serves at /metrics.
type telemetry struct {
	meters *sdkmetric.MeterProvider
	// tracers is a no-op provider unless a traces exporter is configured
	// (see exporterNames): spans then cost nothing, and incoming trace
	// contexts still propagate into events' traceparent.
	tracers  trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when tracing is off
	registry *prometheus.Registry
}

// newTelemetry builds the providers from the standard OpenTelemetry
// environment (telemetry_env.go): the resource from OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES over service.name=sluice, traces to the
// OTEL_TRACES_EXPORTER exporters, metrics to Prometheus (the admin
// /metrics, always) and the OTEL_METRICS_EXPORTER ones. Export failures
// are logged to log, at most once per telemetryErrorEvery. A malformed
// variable is an error naming it.
func newTelemetry(ctx context.Context, log *slog.Logger, stderr io.Writer) (*telemetry, error) {
	res, err := newResource(ctx)
	if err != nil {
		return nil, err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	prom, err := otelprom.New(otelprom.WithRegisterer(registry), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	readers, err := metricReaders(ctx, stderr)
	if err != nil {
		return nil, err
	}
	meterOpts := []sdkmetric.Option{sdkmetric.WithReader(prom), sdkmetric.WithResource(res)}
	for _, r := range readers {
		meterOpts = append(meterOpts, sdkmetric.WithReader(r))
	}
	t := &telemetry{meters: sdkmetric.NewMeterProvider(meterOpts...), tracers: tracenoop.NewTracerProvider(), registry: registry}
	exporters, err := spanExporters(ctx, stderr)
	if err != nil {
		return nil, errors.Join(err, t.meters.Shutdown(ctx))
	}
	if len(exporters) > 0 {
		opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
		for _, e := range exporters {
			opts = append(opts, sdktrace.WithBatcher(e))
		}
		t.sdk = sdktrace.NewTracerProvider(opts...)
		t.tracers = t.sdk
	}
	if len(exporters) > 0 || len(readers) > 0 {
		otel.SetErrorHandler(newExportErrorLog(log.With(slog.String("component", "telemetry"))))
	}
	return t, nil
}

// metricsHandler serves the Prometheus exposition format.
func (t *telemetry) metricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// shutdown flushes and stops the providers, within
// telemetryShutdownTimeout.
func (t *telemetry) shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telemetryShutdownTimeout)
	defer cancel()
	var tracesErr error
	if t.sdk != nil {
		tracesErr = t.sdk.Shutdown(ctx)
	}
	return errors.Join(t.meters.Shutdown(ctx), tracesErr)
}

// newLogger returns a slog logger writing to w as the log section says.
func newLogger(w io.Writer, c config.LogConfig) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: c.Level}
	switch c.Format {
	case config.LogFormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
}
