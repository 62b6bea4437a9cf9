package probesource

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the source's configuration type.
const Type = "probe"

// NewFactory returns the probe source factory.
func NewFactory() pipeline.SourceFactory {
	return pipeline.NewSourceFactory(Type, defaultConfig, func(_ context.Context, set pipeline.Settings, cfg *Config) (pipeline.Source, error) {
		return newSource(set, cfg)
	})
}
