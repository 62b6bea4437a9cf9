//go:build !genman

package main

import "github.com/spf13/cobra"

// manCommands returns no command: the man page and completion writer
// (`sluice gen-man`, cmd_schema_man.go) is only in a binary built with
// the build tag genman, which packaging/build-deb builds for the package's
// pages. Leaving it out of the shipped binary keeps cobra/doc, go-md2man
// and blackfriday (whose init alone allocates 210 KB of tables) out of
// every engine's memory (docs/benchmarks.md, "Startup memory").
func manCommands() []*cobra.Command { return nil }
