package stdoutsink

import (
	"context"
	"io"
	"os"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the sink's YAML type name.
const Type = "stdout"

// Option configures what NewFactory builds, beyond the YAML config.
type Option func(*options)

type options struct {
	writer io.Writer
}

// WithWriter makes the sinks write to w instead of os.Stdout. w must be
// safe for use by one goroutine at a time; the sink never closes it.
func WithWriter(w io.Writer) Option {
	return func(o *options) { o.writer = w }
}

// NewFactory returns the factory for stdout sinks.
func NewFactory(opts ...Option) pipeline.SinkFactory {
	o := options{writer: os.Stdout}
	for _, opt := range opts {
		opt(&o)
	}
	return pipeline.NewSinkFactory(Type, defaultConfig, func(_ context.Context, _ pipeline.Settings, cfg *Config) (pipeline.Sink, error) {
		return newSink(cfg, o.writer), nil
	})
}
