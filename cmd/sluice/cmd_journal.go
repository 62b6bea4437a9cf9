package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newJournalCommand(s streams) *cobra.Command {
	var f journalFlags
	cmd := &cobra.Command{
		Use: "journal",
		Example: `  sluice journal stats -c sluice.yaml
  sluice journal tail -c sluice.yaml -f
  sluice journal verify --dir /var/lib/sluice/journal`,
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
