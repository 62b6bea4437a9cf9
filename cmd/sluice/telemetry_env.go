package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// ErrTelemetryEnv is returned for an OTEL_* variable Sluice cannot honour.
var ErrTelemetryEnv = errors.New("invalid OpenTelemetry environment")

// The OTLP protocols (OTEL_EXPORTER_OTLP_PROTOCOL); http/protobuf is the
// specification's default.
const (
	protocolGRPC = "grpc"
	protocolHTTP = "http/protobuf"
)

// exporterNames returns the exporters the comma-separated
// OTEL_<SIGNAL>_EXPORTER names (lower-cased, "none" dropped). Unlike the
// SDK's default of "otlp", an unset variable means none unless an OTLP
// endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT), so that a plain `sluice run`
// does not try to reach a collector on localhost. OTEL_SDK_DISABLED=true
// turns every exporter off.
func exporterNames(signal string) []string {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return nil
	}
	v := strings.TrimSpace(os.Getenv("OTEL_" + signal + "_EXPORTER"))
	if v == "" {
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != "" {
			return []string{"otlp"}
		}
		return nil
	}
	var names []string
	for n := range strings.SplitSeq(v, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n != "" && n != "none" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// otlpProtocol returns the OTLP protocol of signal:
// OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL,
// else http/protobuf.
func otlpProtocol(signal string) (string, error) {
	name := "OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL"
	p := strings.TrimSpace(os.Getenv(name))
	if p == "" {
		name = "OTEL_EXPORTER_OTLP_PROTOCOL"
		p = strings.TrimSpace(os.Getenv(name))
	}
	switch p {
	case "", protocolHTTP:
		return protocolHTTP, nil
	case protocolGRPC:
		return protocolGRPC, nil
	}
	return "", fmt.Errorf("%w: %s=%q: want %s or %s", ErrTelemetryEnv, name, p, protocolGRPC, protocolHTTP)
}

// spanExporters returns the exporters of OTEL_TRACES_EXPORTER: otlp (over
// the OTLP protocol; endpoint, headers, TLS, compression and timeout from
// the exporters' own OTEL_EXPORTER_OTLP_* variables) and console (to
// stderr, never stdout, which belongs to the stdout sink).
func spanExporters(ctx context.Context, stderr io.Writer) ([]sdktrace.SpanExporter, error) {
	var out []sdktrace.SpanExporter
	for _, name := range exporterNames("TRACES") {
		var e sdktrace.SpanExporter
		var err error
		switch name {
		case "otlp":
			var proto string
			if proto, err = otlpProtocol("TRACES"); err != nil {
				return nil, err
			}
			if proto == protocolGRPC {
				e, err = otlptracegrpc.New(ctx)
			} else {
				e, err = otlptracehttp.New(ctx)
			}
		case "console":
			e, err = stdouttrace.New(stdouttrace.WithWriter(stderr))
		default:
			return nil, fmt.Errorf("%w: OTEL_TRACES_EXPORTER: unsupported exporter %q (want otlp, console or none)", ErrTelemetryEnv, name)
		}
		if err != nil {
			return nil, fmt.Errorf("traces exporter %s: %w", name, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// metricReaders returns the periodic readers of OTEL_METRICS_EXPORTER:
// otlp and console as for traces; prometheus names the admin listener's
// /metrics, which is always served, so it adds nothing. The interval is
// OTEL_METRIC_EXPORT_INTERVAL (the SDK's default 60s).
func metricReaders(ctx context.Context, stderr io.Writer) ([]sdkmetric.Reader, error) {
	var out []sdkmetric.Reader
	for _, name := range exporterNames("METRICS") {
		var e sdkmetric.Exporter
		var err error
		switch name {
		case "prometheus":
			continue
		case "otlp":
			var proto string
			if proto, err = otlpProtocol("METRICS"); err != nil {
				return nil, err
			}
			if proto == protocolGRPC {
				e, err = otlpmetricgrpc.New(ctx)
			} else {
				e, err = otlpmetrichttp.New(ctx)
			}
		case "console":
			e, err = stdoutmetric.New(stdoutmetric.WithWriter(stderr))
		default:
			return nil, fmt.Errorf("%w: OTEL_METRICS_EXPORTER: unsupported exporter %q (want otlp, prometheus, console or none)", ErrTelemetryEnv, name)
		}
		if err != nil {
			return nil, fmt.Errorf("metrics exporter %s: %w", name, err)
		}
		out = append(out, sdkmetric.NewPeriodicReader(e))
	}
	return out, nil
}

// newResource describes this process: service.name "sluice" and
// service.version, the SDK, host and process runtime, then
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, which override them.
func newResource(ctx context.Context) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("sluice"), semconv.ServiceVersion(version)),
		resource.WithTelemetrySDK(), resource.WithHost(),
		resource.WithProcessPID(), resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(), resource.WithProcessRuntimeVersion(),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("%w: resource (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME): %w", ErrTelemetryEnv, err)
	}
	return res, nil
}
