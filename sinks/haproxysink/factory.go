package haproxysink

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

// Type is the sink's configuration type.
const Type = "haproxy"

// NewFactory returns the haproxy sink factory.
func NewFactory() pipeline.SinkFactory {
	return pipeline.NewSinkFactory(Type, defaultConfig, func(_ context.Context, set pipeline.Settings, cfg *Config) (pipeline.Sink, error) {
		return newSink(set, cfg)
	})
}
