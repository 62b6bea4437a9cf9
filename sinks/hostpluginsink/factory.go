package hostpluginsink

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the sink's YAML type name.
const Type = "hostplugin"

// NewFactory returns the factory for host-plugin HealthService sinks.
func NewFactory() pipeline.SinkFactory {
	return pipeline.NewSinkFactory(Type, defaultConfig, func(ctx context.Context, set pipeline.Settings, cfg *Config) (pipeline.Sink, error) {
		return newSink(ctx, set, cfg)
	})
}
