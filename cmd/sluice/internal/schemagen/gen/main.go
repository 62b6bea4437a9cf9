// Command gen writes the config's JSON Schema (cmd/sluice/schema.json),
// docs/config.md and the per-source and per-sink reference pages from the
// Go types and their doc comments. It runs through go:generate in
// cmd/sluice:
//
//	go generate ./cmd/sluice
package main

import (
	"fmt"
	"os"

	"github.com/sluice-dev/sluice/cmd/sluice/internal/builtin"
	"github.com/sluice-dev/sluice/cmd/sluice/internal/schemagen"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	regs, err := builtin.Registries()
	if err == nil {
		err = schemagen.Write(root, regs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
