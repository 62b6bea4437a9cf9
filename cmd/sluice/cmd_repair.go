package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/journal"
)

func newJournalRepairCommand(s streams, f *journalFlags) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use: "repair [--yes]",
		Example: `  sluice journal repair -c sluice.yaml         # show the damage and the plan
  sluice journal repair -c sluice.yaml --yes   # keep a copy, truncate to the last good record`,
		Short: "Truncate a damaged journal to its last good record, keeping a copy",
		Long: `Check the whole journal of a stopped engine as 'verify' does and, if it is
damaged, print the plan: the first bad record and the last good one before
it. With --yes, copy the segment holding the damage and every later segment
into JOURNAL_DIR/repair-TIME/, then truncate the journal to the last good
record (records after the damage are lost from the journal but kept in the
copies), move cursors past the new head back to it, and raise the retention
floor over segments deleted by hand. The engine then starts again, and
sinks deliver from their cursors.

Exits 0 when the journal is intact or was repaired, 5 when it is damaged
and --yes was not given, 4 when the engine holds the journal (stop it
first).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := f.journalDir()
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(s.errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
			prog := newProgress(s.errOut, "repair", "records", 0)
			rep, err := journal.Repair(cmd.Context(), dir, journal.RepairOptions{DryRun: !yes, Logger: log,
				Progress: func(done, total uint64) {
					prog.setTotal(int64(total))
					prog.set(int64(done), "")
				}})
			prog.finish()
			if err != nil {
				if errors.Is(err, journal.ErrInUse) {
					return withExit(exitJournalInUse, fmt.Errorf("%w: stop the engine before repairing its journal", err))
				}
				return err
			}
			if err := writeJSON(s.out, newRepairView(rep)); err != nil {
				return err
			}
			if rep.Damage == nil && !rep.Repaired {
				fmt.Fprintln(s.errOut, "journal is intact; nothing to repair")
			}
			if rep.Damage != nil && !rep.Repaired {
				return withExit(exitJournalDamage, fmt.Errorf("%w; rerun with --yes to keep a copy and truncate to record %d", rep.Damage, rep.LastGood))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "repair (without it, only print the plan)")
	return cmd
}

type repairView struct {
	Status      string   `json:"status"`
	Damage      string   `json:"damage,omitempty"`
	LastGood    uint64   `json:"last_good"`
	Backup      string   `json:"backup,omitempty"`
	Copied      []string `json:"copied,omitempty"`
	Removed     []string `json:"removed,omitempty"`
	Rewritten   string   `json:"rewritten,omitempty"`
	FloorRaised uint64   `json:"floor_raised,omitempty"`
}

func newRepairView(r journal.RepairReport) repairView {
	v := repairView{Status: "intact", LastGood: r.LastGood, Backup: r.Backup, Copied: r.Copied, Removed: r.Removed,
		Rewritten: r.Rewritten, FloorRaised: r.FloorRaised}
	if r.Damage != nil {
		v.Damage = r.Damage.Error()
		v.Status = "damaged"
	}
	if r.Repaired {
		v.Status = "repaired"
	}
	return v
}

// writeJSON writes v indented, with a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
