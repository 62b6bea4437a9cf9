package main

import (
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks"
	"github.com/sluice-dev/sluice/sources"
)

// registries returns the factories of every built-in component. This is the
// one place that decides what the binary contains.
func registries() (pipeline.Registries, error) {
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

// journalBackends returns the journal backends the engine and its tools
// open journals with (journal.backend).
func journalBackends() *journal.Backends { return journal.DefaultBackends() }
