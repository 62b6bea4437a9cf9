package natssource

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the source's configuration type.
const Type = "nats"

// NewFactory returns the nats source factory.
func NewFactory() pipeline.SourceFactory {
	return pipeline.NewSourceFactory(Type, defaultConfig, func(_ context.Context, set pipeline.Settings, cfg *Config) (pipeline.Source, error) {
		return newSource(set.WithDefaults(), cfg)
	})
}
