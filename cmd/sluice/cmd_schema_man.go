//go:build genman

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCommands returns the hidden gen-man command: this binary was built
// with the build tag genman (packaging/build-deb builds one to write the
// pages; the shipped binary is built without it).
func manCommands() []*cobra.Command { return []*cobra.Command{newManCommand()} }

// newManCommand is the hidden `sluice gen-man DIR` that writes a man page
// per command (sluice.1, sluice-run.1, …) and the bash, zsh and fish
// completion scripts from the command tree, for `task package`.
func newManCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "gen-man DIR",
		Short:  "Write the man pages and shell completion scripts into DIR (for packaging)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(filepath.Join(dir, "man1"), 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // reproducible pages
			header := &doc.GenManHeader{Title: "SLUICE", Section: "1", Source: "Sluice " + version, Manual: "Sluice Manual"}
			if err := doc.GenManTree(root, header, filepath.Join(dir, "man1")); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			for _, c := range []struct {
				name string
				gen  func(string) error
			}{
				{"sluice.bash", func(p string) error { return root.GenBashCompletionFileV2(p, true) }},
				{"_sluice", root.GenZshCompletionFile},
				{"sluice.fish", func(p string) error { return root.GenFishCompletionFile(p, true) }},
			} {
				if err := c.gen(filepath.Join(dir, c.name)); err != nil {
					return fmt.Errorf("completion %s: %w", c.name, err)
				}
			}
			return nil
		},
	}
}
