package sourcesink

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the sink's YAML type name.
const Type = "source"

// Config is the source sink's configuration (`type: source`).
type Config struct {
	// Source names the source of this pipeline that takes the events;
	// it must take events (the vmfault source does). Required.
	Source string `yaml:"source" config:"required"`
}

var _ pipeline.Config = (*Config)(nil)

// Validate implements pipeline.Config.
func (c *Config) Validate() error {
	if c.Source == "" {
		return pipeline.FieldErrorf("source", "required: the name of a source of this pipeline that takes events")
	}
	return nil
}

// NewFactory returns the factory for source sinks.
func NewFactory() pipeline.SinkFactory {
	return pipeline.NewSinkFactory(Type, func() *Config { return &Config{} }, func(_ context.Context, set pipeline.Settings, cfg *Config) (pipeline.Sink, error) {
		return &sink{name: cfg.Source, sources: set.WithDefaults().Sources}, nil
	})
}

// sink hands each batch to the named source.
type sink struct {
	name    string
	sources pipeline.SourceHandlers
}

// Provision implements pipeline.Provisioner: the source must exist and
// take events.
func (s *sink) Provision(context.Context) error {
	if _, err := s.sources.SourceHandler(s.name); err != nil {
		return fmt.Errorf("source sink: %w", err)
	}
	return nil
}

// Start implements pipeline.Sink.
func (s *sink) Start(context.Context) error { return nil }

// Deliver implements pipeline.Sink: the source's HandleEvents decides.
// A source that vanished (removed by a reload) or takes no events is
// permanent.
func (s *sink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	h, err := s.sources.SourceHandler(s.name)
	if err != nil {
		if errors.Is(err, pipeline.ErrUnknownSource) || errors.Is(err, pipeline.ErrNotEventHandler) {
			return pipeline.Permanent(fmt.Errorf("source sink: %w", err))
		}
		return fmt.Errorf("source sink: %w", err)
	}
	return h.HandleEvents(ctx, batch)
}

// Close implements pipeline.Sink.
func (s *sink) Close(context.Context) error { return nil }
