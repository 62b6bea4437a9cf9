package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newCursorsCommand(s streams, f *journalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use: "cursors",
		Example: `  sluice journal cursors list -c sluice.yaml
  sluice journal cursors set -c sluice.yaml archive 1200
  sluice journal cursors delete -c sluice.yaml old-sink`,
		Short: "List, move and delete the consumers' cursors",
		Long: `Every sink reads the journal through a cursor named after it; retention never
removes a record a cursor has not passed. A sink that is renamed or removed
leaves an orphan cursor behind, which pins retention until it is deleted
(or, in a running engine, until journal.orphan_cursor_ttl passes).

list works on a stopped engine's journal and through a running engine's
admin API. set and delete change a stopped engine's journal directly;
a running engine accepts them only for cursors that none of its sinks
uses (stop it to move a configured sink's cursor).`,
	}
	cmd.AddCommand(newCursorsListCommand(s, f), newCursorsSetCommand(s, f), newCursorsDeleteCommand(s, f))
	return cmd
}

func newCursorsListCommand(s streams, f *journalFlags) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use: "list [--json]",
		Example: `  sluice journal cursors list -c sluice.yaml
  sluice journal cursors list --dir /var/lib/sluice/journal --json`,
		Short: "List every cursor with its next sequence, backlog and whether a configured sink owns it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			sinks, err := f.configuredSinks()
			if err != nil {
				return err
			}
			return withJournal(ctx, f, func(v journalView) error {
				cs, err := v.Cursors(ctx, sinks)
				if err != nil {
					return err
				}
				if jsonOut {
					enc := json.NewEncoder(s.out)
					enc.SetIndent("", "  ")
					return enc.Encode(cs)
				}
				tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CURSOR\tNEXT\tBACKLOG\tSINK")
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", c.Name, c.Next, c.Backlog, c.Sink)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print a JSON array instead of a table")
	return cmd
}

func newCursorsSetCommand(s streams, f *journalFlags) *cobra.Command {
	return &cobra.Command{
		Use: "set NAME SEQ|TIME",
		Example: `  sluice journal cursors set -c sluice.yaml archive 1200                  # re-deliver from record 1200
  sluice journal cursors set -c sluice.yaml archive 2026-05-01T00:00:00Z  # from the first record appended then`,
		Short: "Move a cursor backwards (re-deliver) or forwards (skip), to a sequence or to the first record appended at or after an RFC 3339 time",
		Args:  cobra.ExactArgs(2),
		// Cursors are named after their sinks.
		ValidArgsFunction: completeFirstArg(kindSink),
		RunE: func(cmd *cobra.Command, args []string) error {
			to, err := parseCursorTarget(args[1])
			if err != nil {
				return usageErrorf("cursors set: %v", err)
			}
			return withWritableJournal(cmd.Context(), f, func(v journalView) error {
				if err := f.checkCursorName(cmd.Context(), v, args[0]); err != nil {
					return err
				}
				next, err := v.SetCursor(cmd.Context(), args[0], to)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(s.out, "cursor %s now reads from %d\n", args[0], next)
				return err
			})
		},
	}
}

func newCursorsDeleteCommand(s streams, f *journalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Example: `  sluice journal cursors delete -c sluice.yaml old-sink`,
		Short:   "Delete a cursor and its sink state, so that it no longer pins retention",
		Args:    cobra.ExactArgs(1),
		// Cursors are named after their sinks.
		ValidArgsFunction: completeFirstArg(kindSink),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWritableJournal(cmd.Context(), f, func(v journalView) error {
				if err := f.checkCursorName(cmd.Context(), v, args[0]); err != nil {
					return err
				}
				if err := v.DeleteCursor(cmd.Context(), args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(s.out, "cursor %s deleted\n", args[0])
				return err
			})
		},
	}
}

// configuredSinks returns the sink names of -c FILE (or the embedded
// default when neither -c nor --dir is given); nil with --dir alone.
func (f *journalFlags) configuredSinks() ([]string, error) {
	if len(configPaths(f.config)) == 0 && f.dir != "" {
		return nil, nil
	}
	regs, err := registries()
	if err != nil {
		return nil, err
	}
	file, err := loadConfig(f.config, regs)
	if err != nil {
		return nil, withExit(exitInvalidConfig, err)
	}
	names := make([]string, 0, len(file.Pipeline.Sinks))
	for _, s := range file.Pipeline.Sinks {
		names = append(names, s.Name)
	}
	return names, nil
}
