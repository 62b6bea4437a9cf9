package main

import (
	"github.com/sluice-dev/sluice/cmd/sluice/internal/builtin"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
)

// registries returns the factories of every built-in component
// (internal/builtin decides what the binary contains).
func registries() (pipeline.Registries, error) { return builtin.Registries() }

// journalBackends returns the journal backends the engine and its tools
// open journals with (journal.backend).
func journalBackends() *journal.Backends {
	b, err := journal.NewBackends(journal.BBolt{}, natsjournal.Backend{})
	if err != nil {
		panic(err) // two fixed, distinct names
	}
	return b
}
