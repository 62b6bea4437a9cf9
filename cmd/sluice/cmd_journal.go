package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newJournalCommand(s streams) *cobra.Command {
	var f journalFlags
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "Inspect the journal and manage its dead letters",
		Long: `Inspect the journal. Every journal command takes -c FILE (or --dir) and works
on a stopped engine's journal directly, and on a running engine's journal
through its admin API (the running process holds the journal's lock): on its
Unix socket (admin.sock in the journal directory, or admin.socket), which only
root and the engine's user may use, or with --admin HOST:PORT over TCP with
the token of admin.token_file (admin.api: tcp). The command checks that the
engine it reaches holds this journal, and never uses an HTTP proxy.`,
	}
	f.register(cmd)
	cmd.AddCommand(newJournalStatsCommand(s, &f), newJournalTailCommand(s, &f), newJournalVerifyCommand(s, &f), newDLQCommand(s, &f), newCursorsCommand(s, &f),
		newJournalReplayCommand(s, &f), newJournalExportCommand(s, &f), newJournalRepairCommand(s, &f), newJournalKeygenCommand(s))
	return cmd
}

func newJournalStatsCommand(s streams, f *journalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Print the journal's extent, size, segments and cursors as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withJournal(cmd.Context(), f, func(v journalView) error {
				st, err := v.Stats(cmd.Context())
				if err != nil {
					return err
				}
				b, err := statsJSON(st)
				if err != nil {
					return err
				}
				_, err = s.out.Write(b)
				return err
			})
		},
	}
}

// withJournal opens the journal view, runs fn and closes the view.
func withJournal(ctx context.Context, f *journalFlags, fn func(journalView) error) error {
	v, err := f.open(ctx)
	if err != nil {
		return err
	}
	err = fn(v)
	if cerr := v.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
		err = fmt.Errorf("close journal: %w", cerr)
	}
	return err
}
