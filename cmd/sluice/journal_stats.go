package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// Output formats of `journal stats`.
const (
	outputTable = "table"
	outputJSON  = "json"
)

func newJournalStatsCommand(s streams, f *journalFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "stats [--output table|json]",
		Short: "Print the journal's extent, size, segments and each sink's lag",
		Long: `Print the journal's extent (first and last sequence), its size on disk
(disk_bytes: the segment files, as verify's disk_bytes counts them), its
segments, and every cursor. The table (the default on a terminal) shows,
per sink cursor, the next sequence it reads, its lag in events (records
appended that it has not handled) and the lag's age (how long the oldest
of them has waited); a configured sink without a cursor yet is listed as
"not started". --output json prints the same as JSON (the default when
stdout is not a terminal).`,
		Example: `  sluice journal stats -c sluice.yaml
  sluice journal stats -c sluice.yaml --output json | jq .cursors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "" {
				output = outputJSON
				if isTerminal(s.out) {
					output = outputTable
				}
			}
			if output != outputTable && output != outputJSON {
				return usageErrorf("--output %q: want table or json", output)
			}
			ctx := cmd.Context()
			sinks, err := f.configuredSinks()
			if err != nil {
				return err
			}
			return withJournal(ctx, f, func(v journalView) error {
				st, err := v.Stats(ctx)
				if err != nil {
					return err
				}
				lags, err := sinkLags(ctx, v, st, sinks, time.Now())
				if err != nil {
					return err
				}
				if output == outputJSON {
					return writeJSON(s.out, statsOutput{statsView: st, Sinks: lags})
				}
				return writeStatsTable(s.out, st, lags)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "table or json (default: table on a terminal, else json)")
	return cmd
}

// statsOutput is what `journal stats --output json` prints: the
// journal's statistics and each sink's lag.
type statsOutput struct {
	statsView
	Sinks []sinkLag `json:"sinks"`
}

// sinkLag is one cursor's (or configured sink's) lag.
type sinkLag struct {
	Name string `json:"name"`
	// Configured is false for an orphan cursor (no sink of the
	// configuration owns it); Started is false for a configured sink
	// without a cursor yet.
	Configured bool   `json:"configured"`
	Started    bool   `json:"started"`
	Next       uint64 `json:"next"`
	// Lag counts the records appended that the sink has not handled.
	Lag uint64 `json:"lag"`
	// Age is how long the oldest record not handled has waited; zero
	// without lag.
	Age        time.Duration `json:"-"`
	AgeSeconds float64       `json:"lag_seconds"`
}

// sinkLags computes the lag of every cursor and every configured sink
// (nil: unknown) at now; the age comes from the append time of the
// oldest record not handled.
func sinkLags(ctx context.Context, v journalView, st statsView, sinks []string, now time.Time) ([]sinkLag, error) {
	names := slices.Collect(maps.Keys(st.Cursors))
	for _, n := range sinks {
		if _, ok := st.Cursors[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := make([]sinkLag, 0, len(names))
	for _, n := range names {
		l := sinkLag{Name: n, Configured: sinks == nil || slices.Contains(sinks, n)}
		next, ok := st.Cursors[n]
		l.Started, l.Next = ok, next
		if ok && st.Last != 0 && next <= st.Last {
			from := max(next, st.First)
			l.Lag = st.Last - from + 1
			t, err := appendTime(ctx, v, from)
			if err != nil {
				return nil, err
			}
			if !t.IsZero() {
				l.Age = max(now.Sub(t), 0)
				l.AgeSeconds = l.Age.Seconds()
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// appendTime returns the append time of record seq (zero if it is gone).
func appendTime(ctx context.Context, v journalView, seq uint64) (time.Time, error) {
	var t time.Time
	err := v.Records(ctx, seq, 1, false, func(line []byte) error {
		var rec struct {
			AppendTime time.Time `json:"appendtime"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("decode record %d: %w", seq, err)
		}
		t = rec.AppendTime
		return nil
	})
	return t, err
}

// writeStatsTable renders the journal and its sinks' lag for a terminal.
func writeStatsTable(w io.Writer, st statsView, lags []sinkLag) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIRST\tLAST\tRECORDS\tSEGMENTS\tDISK\tHEAD HASH")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t%.16s\n", st.First, st.Last, st.Records, len(st.Segments), humanBytes(st.Bytes), st.HeadHash)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SINK\tNEXT\tLAG\tLAG AGE\t")
	for _, l := range lags {
		note := ""
		if !l.Configured {
			note = "(orphan cursor)"
		}
		switch {
		case !l.Started:
			fmt.Fprintf(tw, "%s\t-\t-\t-\tnot started\n", l.Name)
		case l.Lag == 0:
			fmt.Fprintf(tw, "%s\t%d\t0\t-\t%s\n", l.Name, l.Next, note)
		default:
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", l.Name, l.Next, l.Lag, l.Age.Round(time.Second), note)
		}
	}
	return tw.Flush()
}

// humanBytes renders n in IEC units (KiB, MiB, ...).
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
