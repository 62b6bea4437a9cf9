package vmfaultsource

import (
	"context"
	"fmt"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the source's configuration type.
const Type = "vmfault"

// NewFactory returns the vmfault source factory.
func NewFactory() pipeline.SourceFactory {
	return pipeline.NewSourceFactory(Type, defaultConfig, func(_ context.Context, set pipeline.Settings, cfg *Config) (pipeline.Source, error) {
		return newSource(set.WithDefaults(), cfg.withDefaults())
	})
}

func newSource(set pipeline.Settings, cfg Config) (pipeline.Source, error) {
	switch cfg.Provider {
	case ProviderOpenStack:
		return newOpenStackSource(set, cfg)
	case ProviderAzure:
		return newAzureSource(set, cfg)
	case ProviderAWS:
		return newAWSSource(set, cfg)
	case ProviderGCP:
		return newGCPSource(set, cfg)
	}
	return nil, fmt.Errorf("%w: vmfault: unknown provider %q", pipeline.ErrInvalidConfig, cfg.Provider)
}
