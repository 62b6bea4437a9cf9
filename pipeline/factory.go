package pipeline

import (
	"context"
	"fmt"
)

// Config is a component's settings: a pointer to a struct with yaml tags,
// decoded strictly by the config package over DefaultConfig's values.
//
// Validate must be fast and free of I/O. It reports every problem at once
// (errors.Join), and should use FieldError so that the config loader can
// point at the offending line and column.
type Config interface {
	Validate() error
}

// Factory is what a Registry holds: anything that names its type.
type Factory interface {
	// Type is the YAML `type` string, e.g. "http" or "file".
	Type() string
}

// SourceFactory builds sources of one type.
type SourceFactory interface {
	Factory
	// DefaultConfig returns a new config holding the defaults.
	DefaultConfig() Config
	// NewSource builds a source from a validated config of the type
	// DefaultConfig returns. ctx is for construction only.
	NewSource(ctx context.Context, set Settings, cfg Config) (Source, error)
}

// SinkFactory builds sinks of one type.
type SinkFactory interface {
	Factory
	DefaultConfig() Config
	NewSink(ctx context.Context, set Settings, cfg Config) (Sink, error)
}

// NewSourceFactory returns a SourceFactory for configs of type C (a
// pointer type), so components keep their constructors typed.
func NewSourceFactory[C Config](typ string, defaults func() C, create func(context.Context, Settings, C) (Source, error)) SourceFactory {
	return sourceFactory[C]{typ: typ, defaults: defaults, create: create}
}

// NewSinkFactory returns a SinkFactory for configs of type C.
func NewSinkFactory[C Config](typ string, defaults func() C, create func(context.Context, Settings, C) (Sink, error)) SinkFactory {
	return sinkFactory[C]{typ: typ, defaults: defaults, create: create}
}

type sourceFactory[C Config] struct {
	typ      string
	defaults func() C
	create   func(context.Context, Settings, C) (Source, error)
}

func (f sourceFactory[C]) Type() string          { return f.typ }
func (f sourceFactory[C]) DefaultConfig() Config { return f.defaults() }

func (f sourceFactory[C]) NewSource(ctx context.Context, set Settings, cfg Config) (Source, error) {
	c, err := typedConfig[C](f.typ, cfg)
	if err != nil {
		return nil, err
	}
	return f.create(ctx, set, c)
}

type sinkFactory[C Config] struct {
	typ      string
	defaults func() C
	create   func(context.Context, Settings, C) (Sink, error)
}

func (f sinkFactory[C]) Type() string          { return f.typ }
func (f sinkFactory[C]) DefaultConfig() Config { return f.defaults() }

func (f sinkFactory[C]) NewSink(ctx context.Context, set Settings, cfg Config) (Sink, error) {
	c, err := typedConfig[C](f.typ, cfg)
	if err != nil {
		return nil, err
	}
	return f.create(ctx, set, c)
}

func typedConfig[C Config](typ string, cfg Config) (C, error) {
	c, ok := cfg.(C)
	if !ok {
		var zero C
		return zero, fmt.Errorf("%w: %s: config is %T, want %T", ErrInvalidConfig, typ, cfg, zero)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, typ, err)
	}
	return c, nil
}
