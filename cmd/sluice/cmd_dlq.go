package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/pipeline"
)

func newDLQCommand(s streams, f *journalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use: "dlq",
		Example: `  sluice journal dlq list -c sluice.yaml
  sluice journal dlq show -c sluice.yaml ves 1234
  sluice journal dlq redrive -c sluice.yaml --sink ves --since 1h`,
		Short: "List, show, redrive and purge dead letters",
		Long: `Dead letters are deliveries a sink gave up on: a permanent failure, or retries
exhausted under a finite retry.max_elapsed. They stay in the journal's
dead-letter store with their sink, route, reason, attempts and errors until
they are redriven (delivered again through the same sink and route) or
purged.

TIME (--since, --until) is an RFC 3339 time or a duration meaning "ago",
such as 1h; both bound the time of the last failure.`,
	}
	cmd.AddCommand(newDLQListCommand(s, f), newDLQShowCommand(s, f), newDLQRedriveCommand(s, f), newDLQPurgeCommand(s, f))
	return cmd
}

// dlqFilterFlags are the filter flags of the dlq commands.
type dlqFilterFlags struct {
	sink, reason, since, until string
	seqs                       []string
}

func (ff *dlqFilterFlags) register(cmd *cobra.Command, withSeq bool) {
	cmd.Flags().StringVar(&ff.sink, "sink", "", "only dead letters of this sink")
	cmd.Flags().StringVar(&ff.reason, "reason", "", "only dead letters whose reason or last error contains this (case-insensitive)")
	cmd.Flags().StringVar(&ff.since, "since", "", "only dead letters that last failed at or after TIME")
	cmd.Flags().StringVar(&ff.until, "until", "", "only dead letters that last failed at or before TIME")
	if withSeq {
		cmd.Flags().StringSliceVar(&ff.seqs, "seq", nil, "only these journal sequences (repeat or separate with commas)")
	}
	registerNameCompletion(cmd, "sink", kindSink)
}

// filter builds the filter, reading durations as "ago" from now.
func (ff *dlqFilterFlags) filter(now time.Time) (pipeline.DeadLetterFilter, error) {
	f := pipeline.DeadLetterFilter{Sink: ff.sink, Reason: ff.reason}
	var err error
	if f.Since, err = parseTimeFlag("since", ff.since, now); err != nil {
		return f, err
	}
	if f.Until, err = parseTimeFlag("until", ff.until, now); err != nil {
		return f, err
	}
	for _, v := range ff.seqs {
		seq, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return f, usageErrorf("--seq %q: want a journal sequence number", v)
		}
		f.Seqs = append(f.Seqs, seq)
	}
	return f, nil
}

// parseTimeFlag reads an RFC 3339 time or a duration before now.
func parseTimeFlag(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	d, err := pipeline.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, usageErrorf("--%s %q: want an RFC 3339 time or a duration ago such as 1h%s", name, v, pipeline.DurationHint(v))
	}
	return now.Add(-d), nil
}

func newDLQListCommand(s streams, f *journalFlags) *cobra.Command {
	var (
		ff      dlqFilterFlags
		jsonOut bool
	)
	cmd := &cobra.Command{
		Use: "list [--sink S] [--reason R] [--since TIME] [--until TIME] [--json]",
		Example: `  sluice journal dlq list -c sluice.yaml
  sluice journal dlq list -c sluice.yaml --sink ves --reason 503 --since 2h
  sluice journal dlq list -c sluice.yaml --json | jq .event`,
		Short: "List dead letters as a table, or as JSON lines with --json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := ff.filter(time.Now())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return withJournal(ctx, f, func(v journalView) error {
				if err := f.checkSinkName(ctx, v, filter.Sink); err != nil {
					return err
				}
				if jsonOut {
					return v.DeadLetters(ctx, filter, func(l deadLetterView) error {
						b, err := json.Marshal(l)
						if err != nil {
							return err
						}
						_, err = s.out.Write(append(b, '\n'))
						return err
					})
				}
				return writeDLQTable(ctx, s, v, filter)
			})
		},
	}
	ff.register(cmd, false)
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print each dead letter, event included, as a JSON line")
	return cmd
}

// dlqTableFlush bounds how many rows the table buffers to align columns.
const dlqTableFlush = 500

func writeDLQTable(ctx context.Context, s streams, v journalView, f pipeline.DeadLetterFilter) error {
	tw := tabwriter.NewWriter(s.out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SINK\tSEQ\tROUTE\tREASON\tATTEMPTS\tREDRIVES\tLAST_AT\tLAST_ERROR")
	n := 0
	err := v.DeadLetters(ctx, f, func(l deadLetterView) error {
		reason := l.Reason
		if l.RedriveRequested {
			reason += " (redrive requested)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%d\t%s\t%s\n", l.Sink, l.Seq, l.Route, reason, l.Attempts, l.Redrives,
			l.LastAt.UTC().Format(time.RFC3339), truncate(l.LastError, 80))
		n++
		if n%dlqTableFlush == 0 {
			return tw.Flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(s.errOut, "no dead letters")
	}
	return nil
}

// truncate puts s on one line of at most max runes.
func truncate(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}

func newDLQShowCommand(s streams, f *journalFlags) *cobra.Command {
	return &cobra.Command{
		Use:               "show SINK SEQ",
		Example:           `  sluice journal dlq show -c sluice.yaml ves 1234`,
		Short:             "Print one dead letter, event included, as indented JSON",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeFirstArg(kindSink),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := strconv.ParseUint(args[1], 10, 64)
			if err != nil {
				return usageErrorf("SEQ %q: want a journal sequence number", args[1])
			}
			ctx := cmd.Context()
			return withJournal(ctx, f, func(v journalView) error {
				l, err := v.DeadLetter(ctx, args[0], seq)
				if errors.Is(err, errNoDeadLetter) {
					if nerr := f.checkSinkName(ctx, v, args[0]); nerr != nil {
						return nerr
					}
				}
				if err != nil {
					return err
				}
				b, err := json.MarshalIndent(l, "", "  ")
				if err != nil {
					return err
				}
				_, err = s.out.Write(append(b, '\n'))
				return err
			})
		},
	}
}

func newDLQRedriveCommand(s streams, f *journalFlags) *cobra.Command {
	var ff dlqFilterFlags
	cmd := &cobra.Command{
		Use: "redrive [--sink S] [--reason R] [--since TIME] [--until TIME] [--seq N ...]",
		Example: `  sluice journal dlq redrive -c sluice.yaml --sink ves
  sluice journal dlq redrive -c sluice.yaml --sink ves --seq 1234,1240`,
		Short: "Mark dead letters for delivery again through the same sink and route",
		Long: `Mark the dead letters the filters select (all without filters) for redrive.
A running engine delivers them at once, a stopped one when it next starts,
through the same sink and route. A letter delivered is removed; one that
fails again returns to the store with its history (attempts, first error,
redrive count).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := ff.filter(time.Now())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return withWritableJournal(ctx, f, func(v journalView) error {
				if err := f.checkSinkName(ctx, v, filter.Sink); err != nil {
					return err
				}
				n, err := v.RequestRedrive(ctx, filter)
				if err != nil {
					return err
				}
				switch {
				case n == 0:
					fmt.Fprintln(s.out, "no dead letters match")
				case v.Live():
					fmt.Fprintf(s.out, "marked %s for redrive; the running engine is delivering them now\n", letters(n))
				default:
					fmt.Fprintf(s.out, "marked %s for redrive; the engine delivers them when it next starts\n", letters(n))
				}
				return nil
			})
		},
	}
	ff.register(cmd, true)
	return cmd
}

func newDLQPurgeCommand(s streams, f *journalFlags) *cobra.Command {
	var (
		ff       dlqFilterFlags
		all, yes bool
	)
	cmd := &cobra.Command{
		Use: "purge [--sink S] [--reason R] [--since TIME] [--until TIME] [--seq N ...] [--all] [--yes]",
		Example: `  sluice journal dlq purge -c sluice.yaml --sink ves --until 168h
  sluice journal dlq purge -c sluice.yaml --all --yes`,
		Short: "Remove dead letters for good",
		Long: `Remove the dead letters the filters select, or every one with --all. Without
--yes, asks for confirmation on standard input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := ff.filter(time.Now())
			if err != nil {
				return err
			}
			switch {
			case all && filterSet(filter):
				return usageErrorf("purge takes filters or --all, not both")
			case !all && !filterSet(filter):
				return usageErrorf("purge needs a filter (--sink, --reason, --since, --until, --seq) or --all")
			}
			ctx := cmd.Context()
			return withWritableJournal(ctx, f, func(v journalView) error {
				if err := f.checkSinkName(ctx, v, filter.Sink); err != nil {
					return err
				}
				if !yes {
					ok, err := confirmPurge(ctx, s, v, filter)
					if err != nil || !ok {
						return err
					}
				}
				n, err := v.PurgeDeadLetters(ctx, filter)
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "purged %s\n", letters(n))
				return nil
			})
		},
	}
	ff.register(cmd, true)
	cmd.Flags().BoolVar(&all, "all", false, "purge every dead letter")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// errNotConfirmed is returned when the user does not confirm a purge.
var errNotConfirmed = errors.New("purge not confirmed (use --yes to skip the question)")

// confirmPurge counts the letters f selects and asks on stdin whether to
// purge them; false with no error means there is nothing to purge.
func confirmPurge(ctx context.Context, s streams, v journalView, f pipeline.DeadLetterFilter) (bool, error) {
	n := 0
	if err := v.DeadLetters(ctx, f, func(deadLetterView) error { n++; return nil }); err != nil {
		return false, err
	}
	if n == 0 {
		fmt.Fprintln(s.out, "no dead letters match")
		return false, nil
	}
	fmt.Fprintf(s.errOut, "purge %s? [y/N] ", letters(n))
	line, _ := bufio.NewReader(s.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	fmt.Fprintln(s.errOut)
	return false, errNotConfirmed
}

func letters(n int) string {
	if n == 1 {
		return "1 dead letter"
	}
	return strconv.Itoa(n) + " dead letters"
}

// withWritableJournal is withJournal for commands that change dead
// letters or cursors.
func withWritableJournal(ctx context.Context, f *journalFlags, fn func(journalView) error) error {
	v, err := f.openWritable(ctx)
	if err != nil {
		return err
	}
	err = fn(v)
	if cerr := v.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
		err = fmt.Errorf("close journal: %w", cerr)
	}
	return err
}
