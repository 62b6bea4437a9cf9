package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
)

// topOptions are top's flags.
type topOptions struct {
	interval time.Duration
	once     bool
}

func newTopCommand(s streams) *cobra.Command {
	var (
		f journalFlags
		o topOptions
	)
	cmd := &cobra.Command{
		Use:   "top [--interval 1s] [--once]",
		Short: "Show a running engine's rates, lag, retries and dead letters per source and sink, refreshed",
		Long: `Show, for a running engine, one row per source and sink, refreshed every
--interval: events/s in (sources: appended) and out (sinks: delivered), the
totals since the engine started, each sink's lag (records appended but not yet
handled) and lag age (how long the oldest of them has waited), retries (per
second and in total; emit errors for a source) and the stored dead letters (a
sink's, or those of a source's events). The data is the admin API's
/api/v1/status, reached like the journal commands (its Unix socket, or --admin
HOST:PORT with the token).

On a terminal it is a full-screen table: q or Ctrl-C quits, s changes the
order (configuration, name, rate, lag, lag age, dead letters), p pauses and
resumes, the arrows scroll. Otherwise it prints plain lines, one per source and
sink at each refresh:
  TIME KIND NAME type=T state=running rate=R total=N lag=N lag_age=D retries=N dead_letters=N
With --once it prints one such block, its rates measured over one --interval,
and exits. With no engine running it fails with exit code 1.`,
		Example: `  sluice top                                   # full screen on a terminal
  sluice top --once                            # one block of plain lines, for scripts
  sluice top --interval 5s | tee top.log       # plain lines every 5 seconds
  sluice top -c /etc/sluice/sluice.yaml
  sluice top --admin 127.0.0.1:9464            # over TCP (admin.api: tcp)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTop(cmd.Context(), s, &f, o)
		},
	}
	f.register(cmd)
	cmd.Flags().DurationVar(&o.interval, "interval", time.Second, "time between refreshes")
	cmd.Flags().BoolVar(&o.once, "once", false, "print one block of plain lines (rates over one --interval) and exit")
	return cmd
}

// runTop shows the engine's status until interrupted (or once).
func runTop(ctx context.Context, s streams, f *journalFlags, o topOptions) error {
	if o.interval < 10*time.Millisecond {
		return usageErrorf("--interval %s: want at least 10ms", o.interval)
	}
	r, err := dialRunningEngine(ctx, f)
	if err != nil {
		return err
	}
	fetch := func(ctx context.Context) (statusView, error) { return r.status(ctx) }
	if o.once || !isTerminal(s.out) {
		return topPlain(ctx, s.out, fetch, o)
	}
	p := tea.NewProgram(newTopModel(fetch, o.interval, r.where), tea.WithContext(ctx),
		tea.WithInput(s.in), tea.WithOutput(s.out))
	_, err = p.Run()
	if ctx.Err() != nil || errors.Is(err, tea.ErrProgramKilled) {
		return nil
	}
	return err
}

// topPlain prints a block of plain lines per refresh (one with once,
// after a first snapshot for the rates) until ctx ends. A failed fetch
// ends it with the error: the engine stopped or cannot be reached.
func topPlain(ctx context.Context, w io.Writer, fetch func(context.Context) (statusView, error), o topOptions) error {
	var prev *statusView
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for first := true; ; first = false {
		cur, err := fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("top: the engine stopped or cannot be reached: %w", err)
		}
		if !o.once || !first {
			for _, row := range topRows(prev, cur) {
				if _, err := fmt.Fprintln(w, plainLine(cur.Time, row)); err != nil {
					return err
				}
			}
			if o.once {
				return nil
			}
		}
		prev = &cur
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// status reads the engine's GET /api/v1/status.
func (r *remoteJournal) status(ctx context.Context) (statusView, error) {
	resp, err := r.get(ctx, "/api/v1/status", nil)
	if err != nil {
		return statusView{}, err
	}
	defer resp.Body.Close()
	var v statusView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return statusView{}, fmt.Errorf("decode status: %w", err)
	}
	return v, nil
}
