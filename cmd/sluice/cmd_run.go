package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

func newRunCommand(s streams) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [-c FILE|DIR]... [--watch]",
		Short: "Run the engine (with no -c, on the embedded default configuration)",
		Long: `Run the engine until SIGINT or SIGTERM, then stop within the configured
shutdown timeout: sources first, then in-flight deliveries, then sinks.
Without -c (or $SLUICE_CONFIG), runs the embedded default configuration: a
CloudEvents HTTP ingest on 127.0.0.1:8088, a heartbeat every 10s, a probe
of the engine's own admin /healthz, a JSON-lines archive and the console,
with state under ./sluice-data ($SLUICE_DATA).

SIGHUP reloads the configuration (as does a change of its files with
--watch): the new one is validated and provisioned first, and refused as a
whole, with its errors logged, if anything is wrong; the running one then
stays. Otherwise only the sources and sinks that changed restart (a sink
whose routes alone changed keeps running); cursors and sink state are
kept and in-flight deliveries finish. journal:, admin: and log: apply at
the next start. The outcome is logged and shown in /api/v1/status.`,
		Example: `  sluice run
  sluice run -c /etc/sluice/sluice.yaml --watch
  sluice run -c base.yaml -c /etc/sluice/conf.d
  kill -HUP $(pidof sluice)     # reload the configuration`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEngine(cmd.Context(), s, o)
		},
	}
	configFlag(cmd, &o.paths, false)
	cmd.Flags().BoolVar(&o.watch, "watch", false, "reload the configuration when its files change")
	return cmd
}

// runOptions are run's flags.
type runOptions struct {
	paths []string
	watch bool
	// watchEvery is how often --watch looks at the files (default 1s).
	watchEvery time.Duration
}

// runEngine is the composition root: config, telemetry, journal, pipeline
// and admin listener, with their lifecycles.
func runEngine(ctx context.Context, s streams, o runOptions) error {
	hup := catchHangups()
	defer hup.stop()
	regs, err := registries()
	if err != nil {
		return err
	}
	file, err := loadConfig(o.paths, regs)
	if err != nil {
		return withExit(exitInvalidConfig, err)
	}
	logConfig, err := s.log.apply(file.Log)
	if err != nil {
		return err
	}
	log, err := newLogger(s.errOut, logConfig)
	if err != nil {
		return withExit(exitInvalidConfig, err)
	}
	for _, w := range file.Warnings {
		logWarning(log, w)
	}
	// A journal held by another engine is the error to report, not that
	// engine's listeners; then every listener is bound (the admin's) or
	// checked (the sources') before anything is created on disk.
	if err := journalBackends().CheckFree(ctx, file.Journal); err != nil {
		return journalOpenError(err)
	}
	adminLn, err := preflight(file, configText(o.paths))
	if err != nil {
		return err
	}
	closeAdminLn := func() {
		if adminLn != nil {
			_ = adminLn.Close()
		}
	}
	tel, err := newTelemetry(ctx, log, s.errOut)
	if err != nil {
		closeAdminLn()
		if errors.Is(err, ErrTelemetryEnv) {
			return withExit(exitInvalidConfig, err)
		}
		return err
	}
	defer func() { _ = tel.shutdown(ctx) }()

	signer, err := engineSigningKey(file.Journal.SigningKey)
	if err != nil {
		closeAdminLn()
		return withExit(exitInvalidConfig, err)
	}
	every, err := checkpointInterval(file.Journal.CheckpointInterval)
	if err != nil {
		closeAdminLn()
		return withExit(exitInvalidConfig, err)
	}
	set := pipeline.Settings{Logger: log, TracerProvider: tel.tracers, MeterProvider: tel.meters, Clock: pipeline.RealClock()}
	j, err := journalBackends().Open(ctx, file.Journal, journal.ReadWrite, set)
	if err != nil {
		closeAdminLn()
		return journalOpenError(err)
	}
	p, err := pipeline.New(ctx, file.Pipeline, regs, j, set)
	if err != nil {
		closeAdminLn()
		return errors.Join(withExit(exitInvalidConfig, err), j.Close(context.WithoutCancel(ctx)))
	}

	rl := newReloader(o.paths, regs, p, file, log.With(slog.String("component", "config")))
	defer hup.serve(ctx, rl)()
	if o.watch {
		every := cmp.Or(o.watchEvery, time.Second)
		watchCtx, stopWatch := context.WithCancel(ctx)
		watchDone := make(chan struct{})
		go func() { defer close(watchDone); rl.watch(watchCtx, every) }()
		defer func() { stopWatch(); <-watchDone }()
	}

	// The admin listeners outlive the pipeline so that /readyz reports the
	// shutdown; they stop after the journal is closed.
	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAdmin()
	var g errgroup.Group
	if err := startAdmin(ctx, adminCtx, &g, file, adminLn, adminDeps{
		journal: j, ready: p.Ready, tel: tel, log: log.With(slog.String("component", "admin")),
		audit:  auditDeps{spec: file.Pipeline, regs: regs, settings: set, signer: signer},
		status: &statusDeps{pipeline: p, journal: j, config: rl.status},
	}); err != nil {
		stopAdmin()
		_ = g.Wait()
		return errors.Join(err, j.Close(context.WithoutCancel(ctx)))
	}
	// With a signing key, the head hash is signed periodically and at
	// shutdown, so an auditor can prove nothing was cut from the end.
	checkpointCtx, stopCheckpoints := context.WithCancel(ctx)
	checkpointsDone := make(chan struct{})
	if signer != nil {
		jlog := log.With(slog.String("component", "journal"))
		go func() { defer close(checkpointsDone); signCheckpoints(checkpointCtx, j, signer, every, jlog) }()
	} else {
		close(checkpointsDone)
	}
	runErr := p.Run(ctx)
	stopCheckpoints()
	<-checkpointsDone // the periodic writer has finished before the last checkpoint
	if signer != nil {
		writeCheckpoint(ctx, j, signer, log.With(slog.String("component", "journal")))
	}
	closeErr := j.Close(context.WithoutCancel(ctx))
	if closeErr != nil {
		closeErr = fmt.Errorf("close journal: %w", closeErr)
	}
	stopAdmin()
	return errors.Join(runErr, closeErr, g.Wait())
}

// journalOpenError gives journal open failures their exit codes.
func journalOpenError(err error) error {
	switch {
	case errors.Is(err, journal.ErrInUse):
		return withExit(exitJournalInUse, err)
	case errors.Is(err, journal.ErrCorrupt):
		return withExit(exitJournalDamage, fmt.Errorf("%w\nthe journal is damaged: 'sluice journal repair' names the damage and, with --yes, keeps a copy and truncates to the last good record (README: Recovering a damaged journal)", err))
	}
	return err
}
