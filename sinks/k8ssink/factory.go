package k8ssink

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the sink's YAML type name.
const Type = "k8s"

// NewFactory returns the factory for Kubernetes sinks.
func NewFactory() pipeline.SinkFactory {
	return pipeline.NewSinkFactory(Type, defaultConfig, func(ctx context.Context, set pipeline.Settings, cfg *Config) (pipeline.Sink, error) {
		return newSink(ctx, set, cfg)
	})
}
