package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/pipeline"
)

func newJournalReplayCommand(s streams, f *journalFlags) *cobra.Command {
	var req replayRequest
	cmd := &cobra.Command{
		Use: "replay --sink NAME [--from SEQ|TIME] [--to SEQ|TIME] [--route R] [--match EXPR] [--dry-run] [--rate N]",
		Example: `  sluice journal replay -c sluice.yaml --sink ves --from 2h --dry-run
  sluice journal replay -c sluice.yaml --sink ves --from 1200 --to 1300 --rate 50
  sluice journal replay -c sluice.yaml --sink archive --match 'event.type == "sluice.vm.fault"'`,
		Short: "Re-deliver a range of the journal to one sink",
		Long: `Re-deliver the records --from..--to (both included; default: the whole
journal) to one sink, through that sink's routes, matches and transforms,
with the same idempotency keys as live delivery, so a sink that
de-duplicates by key sees no new effect. SEQ is a journal sequence; TIME is
an RFC 3339 time or a duration ago (such as 1h) compared with the append
time: --from TIME starts at the first record appended at or after it, --to
TIME ends at the last appended at or before it (found by binary search, not
a scan).

--route keeps only what the sink received through that route; --match keeps
only the events a CEL expression selects (the same language as a route's
match.expr, on the event as journaled). --rate bounds deliveries per second.
--dry-run builds no sink and sends nothing: it prints what would be sent
(counts by type and source, first and last delivery, the first few events).

A new instance of the sink is built from the configuration (-c), started,
and closed at the end; the sink's live cursor is never moved and failures
are reported, not dead-lettered; throttles do not apply. While the engine
runs, the replay runs inside it through its admin API. Progress goes to
stderr (a bar on a terminal), the report to stdout as JSON. Ctrl-C stops
cleanly and says how far the replay got. Exits 1 when deliveries failed or
the replay was interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Rate < 0 {
				return usageErrorf("--rate must not be negative")
			}
			if _, _, err := parseRange(req.From, req.To, time.Now()); err != nil {
				return err
			}
			ctx := cmd.Context()
			return withJournal(ctx, f, func(v journalView) error {
				var (
					rep replayReportView
					err error
				)
				prog := newProgress(s.errOut, "replay", "records", 0)
				onProgress := func(p replayProgressView) {
					if p.To >= p.From {
						prog.setTotal(int64(p.To - p.From + 1))
					}
					prog.set(int64(p.Next-p.From), fmt.Sprintf("%d delivered, %d failed", p.Delivered, p.Failed))
				}
				switch v := v.(type) {
				case localJournal:
					rep, err = replayLocal(ctx, s, f, v, req, onProgress)
				case *remoteJournal:
					rep, err = v.replay(ctx, req, onProgress)
				default:
					return fmt.Errorf("replay: unsupported journal view %T", v)
				}
				prog.finish()
				if rep.ByType == nil { // no report: the replay did not start
					return err
				}
				b, merr := json.MarshalIndent(rep, "", "  ")
				if merr != nil {
					return merr
				}
				if _, werr := fmt.Fprintf(s.out, "%s\n", b); werr != nil {
					return werr
				}
				if err != nil && !errors.Is(err, context.Canceled) {
					return err
				}
				return replayOutcome(rep)
			})
		},
	}
	cmd.Flags().StringVar(&req.Sink, "sink", "", "sink to deliver to (required)")
	cmd.Flags().StringVar(&req.From, "from", "", "first record: SEQ, RFC 3339 TIME or a duration ago (default: the oldest)")
	cmd.Flags().StringVar(&req.To, "to", "", "last record: SEQ, RFC 3339 TIME or a duration ago (default: the newest)")
	cmd.Flags().StringVar(&req.Route, "route", "", "only what the sink receives through this route")
	cmd.Flags().StringVar(&req.Match, "match", "", "only events this CEL expression selects, e.g. 'event.type == \"sluice.vm.fault\"'")
	cmd.Flags().BoolVar(&req.DryRun, "dry-run", false, "send nothing; report what would be sent")
	cmd.Flags().Float64Var(&req.Rate, "rate", 0, "at most N deliveries per second (default: no limit)")
	_ = cmd.MarkFlagRequired("sink")
	registerNameCompletion(cmd, "sink", kindSink)
	registerNameCompletion(cmd, "route", kindRoute)
	return cmd
}

// replayLocal replays on a stopped engine's journal, with the sinks and
// routes of the configuration file.
func replayLocal(ctx context.Context, s streams, f *journalFlags, l localJournal, req replayRequest, onProgress func(replayProgressView)) (replayReportView, error) {
	regs, err := registries()
	if err != nil {
		return replayReportView{}, err
	}
	file, err := loadConfig(f.config, regs)
	if err != nil {
		return replayReportView{}, withExit(exitInvalidConfig, err)
	}
	log := slog.New(slog.NewTextHandler(s.errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	set := pipeline.Settings{Logger: log, Clock: pipeline.RealClock()}
	return runReplay(ctx, l.j, file.Pipeline, regs, set, req, func(p pipeline.ReplayProgress) {
		onProgress(newReplayProgressView(p))
	})
}
