// Package builtin is the one place that decides which sources and sinks
// the sluice binary contains (sources.Factories, sinks.Factories), for the
// engine and for the schema and docs generator alike.
package builtin

import (
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks"
	"github.com/sluice-dev/sluice/sources"
)

// Registries returns the built-in sources and sinks: a component added to
// sources.Factories or sinks.Factories is in the binary, and gets its
// schema and reference page at the next go generate.
func Registries() (pipeline.Registries, error) {
	src, err := pipeline.NewRegistry(sources.Factories()...)
	if err != nil {
		return pipeline.Registries{}, err
	}
	snk, err := pipeline.NewRegistry(sinks.Factories()...)
	if err != nil {
		return pipeline.Registries{}, err
	}
	return pipeline.Registries{Sources: src, Sinks: snk}, nil
}
