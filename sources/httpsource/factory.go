package httpsource

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the source's YAML type name.
const Type = "http"

// NewFactory returns the factory for HTTP sources. The sources it builds
// are *Source values.
func NewFactory() pipeline.SourceFactory {
	return pipeline.NewSourceFactory(Type, defaultConfig, func(_ context.Context, set pipeline.Settings, cfg *Config) (pipeline.Source, error) {
		return newSource(set, cfg)
	})
}
