package pipeline

import (
	"log/slog"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Settings carries what every component gets from the composition root.
// Components never read globals for any of these.
type Settings struct {
	// ID is the component's configured name.
	ID string
	// Logger is already scoped with the component's name and kind.
	Logger *slog.Logger
	// TracerProvider and MeterProvider are the OpenTelemetry providers;
	// instrumentation scope is the component package's import path.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Clock is the time source; tests substitute a controllable one.
	Clock Clock
	// State is a sink's durable state (see SinkState), loaded from the
	// journal by the runner; WithDefaults gives an empty in-memory one.
	// Sources keep their state through SourceHost instead.
	State SinkState
	// Sources finds the pipeline's sources that take events from routes
	// (see EventHandler), for a sink that hands events to one; the
	// pipeline sets it, WithDefaults gives one that knows no source.
	Sources SourceHandlers

	_ struct{}
}

// NopSettings returns Settings that discard logs and telemetry and use the
// real clock, for tests and tools.
func NopSettings(id string) Settings {
	return Settings{
		ID:             id,
		Logger:         slog.New(slog.DiscardHandler),
		TracerProvider: tracenoop.NewTracerProvider(),
		MeterProvider:  metricnoop.NewMeterProvider(),
		Clock:          RealClock(),
	}
}

// WithDefaults returns s with its nil fields filled with no-op
// implementations (and the wall clock), so components built outside the
// runner, as in tests, need not check for nil.
func (s Settings) WithDefaults() Settings {
	n := NopSettings(s.ID)
	if s.Logger == nil {
		s.Logger = n.Logger
	}
	if s.TracerProvider == nil {
		s.TracerProvider = n.TracerProvider
	}
	if s.MeterProvider == nil {
		s.MeterProvider = n.MeterProvider
	}
	if s.Clock == nil {
		s.Clock = n.Clock
	}
	if s.State == nil {
		s.State = NewMemoryState(nil)
	}
	if s.Sources == nil {
		s.Sources = noSources{}
	}
	return s
}

// For returns a copy of s for the named sub-component, with the logger
// scoped by kind and name.
func (s Settings) For(kind, name string) Settings {
	s = s.WithDefaults()
	s.ID = name
	s.Logger = s.Logger.With(slog.String("component", kind), slog.String("name", name))
	s.State = NewMemoryState(nil) // never shared between components
	return s
}
