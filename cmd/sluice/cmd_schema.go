package main

import (
	_ "embed"

	"github.com/spf13/cobra"
)

// configSchema is the JSON Schema of the config file, generated from the
// Go types and their doc comments by internal/schemagen (go generate;
// TestGeneratedFilesAreFresh fails when it is stale).
//
//go:generate go run ./internal/schemagen/gen ../..
//go:embed schema.json
var configSchema []byte

func newSchemaCommand(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the configuration file",
		Long: `Print the JSON Schema (draft 2020-12) of the configuration file: every
key of every section and of every source and sink type this binary
contains, with descriptions and defaults, for editor completion and
validation. With the YAML language server (VS Code, Neovim, Helix), put
this first line in a config file:

  # yaml-language-server: $schema=./sluice.schema.json

The schema checks the file's shape; 'sluice validate' checks everything
(references between components, templates, expressions, files).`,
		Example: `  sluice schema > sluice.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := s.out.Write(configSchema)
			return err
		},
	}
}
