package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrShutdownTimeout is returned by Run when stopping took longer than the
// shutdown timeout. Nothing acknowledged is lost: what was not delivered is
// delivered after the next start.
var ErrShutdownTimeout = errors.New("shutdown timed out")

// abandonGrace is how long Run waits, after canceling everything at the
// shutdown deadline, for components to react before it names them
// abandoned and returns.
const abandonGrace = time.Second

// Run starts the pipeline and blocks until ctx is canceled or a component
// fails, then stops it within Spec.ShutdownTimeout. It may be called once.
//
// At start it reconciles the journal's cursors (see reconcileCursors:
// orphans of sinks no longer configured are logged and, after
// Spec.OrphanCursorTTL, removed; a timer does it while running too).
// Start order: every sink's cursor is registered with the journal (a new
// sink's at its StartAt, so that retention keeps the backlog it starts at
// whatever a source appends), then sinks (Start), then one consumer per
// sink, then sources.
// Stop order: sources first (their ctx is canceled and their Run waited
// for, so nothing new enters), then consumers (in-flight deliveries
// finish; retry waits end and leave what is undelivered for the next
// start), then sinks (Close). At the deadline everything still running is
// canceled; what has not returned a moment later is abandoned, named in
// the log and in the error (ErrShutdownTimeout), and its sink is not
// closed. Otherwise Run waits for every goroutine it started. It returns
// nil after a clean stop caused by ctx, or the components' errors.
func (p *Pipeline) Run(ctx context.Context) error {
	if p.ran.Swap(true) {
		return errors.New("pipeline: Run called twice")
	}
	defer p.taps.stop() // after the last delivery: taps see it
	log := p.set.Logger
	if st, err := p.journal.Stats(ctx); err == nil {
		p.noteAppended(st.Last)
	}
	due, err := p.reconcileCursors(ctx)
	if err != nil {
		log.Error("orphaned journal cursors could not be handled", slog.String("error", err.Error()))
	}
	reg, err := p.set.MeterProvider.Meter(instrumentationScope).RegisterCallback(p.observeLag, p.tel.sinkLag, p.tel.sinkLagAge)
	if err != nil {
		return fmt.Errorf("register lag gauge: %w", err)
	}
	defer func() { _ = reg.Unregister() }()

	registerSinks(ctx, p.sinks)
	started, err := p.startSinks(ctx)
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.spec.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, p.closeSinks(closeCtx, started))
	}

	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	consumers, stopConsumers := context.WithCancel(hard)
	defer stopConsumers()
	group, gctx := errgroup.WithContext(ctx)
	p.mu.Lock()
	p.run = &runState{group: group, ctx: gctx, consumers: consumers, hard: hard}
	p.mu.Unlock()
	for _, s := range p.sinks {
		if err := p.startConsumer(s.name); err != nil {
			return err // cannot happen: nothing runs yet
		}
	}
	group.Go(func() error { return p.watchOrphans(gctx, due) })
	for _, s := range p.sources {
		if err := p.startSource(s.name); err != nil {
			return err
		}
	}
	log.Info("pipeline running", slog.Int("sources", len(p.sources)), slog.Int("sinks", len(p.sinks)))
	p.ready.Store(true) // from here on a Reload may change sources and sinks

	<-gctx.Done()
	var runErr error
	if cause := context.Cause(gctx); ctx.Err() == nil || !errors.Is(cause, context.Canceled) {
		runErr = cause
	}
	p.ready.Store(false)
	p.reloadMu.Lock() // a reload in progress finishes first
	p.stopping = true
	p.reloadMu.Unlock()
	log.Info("pipeline stopping", slog.Duration("timeout", p.spec.ShutdownTimeout))
	stopStart := time.Now()
	deadline, cancelDeadline := context.WithTimeout(context.WithoutCancel(ctx), p.spec.ShutdownTimeout)
	defer cancelDeadline()

	// 1. Sources (their ctx is gctx's, canceled): nothing new enters.
	p.waitUnits(deadline, sourceUnit(""))
	// 2. Consumers: in-flight deliveries finish; retry waits end now.
	stopConsumers()
	p.waitUnits(deadline, "")
	// 3. Past the deadline: cancel in-flight work, then name what is left.
	var abandoned []string
	if deadline.Err() != nil {
		cancelHard()
		grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonGrace)
		p.waitUnits(grace, "")
		cancel()
		for _, u := range p.runningUnits() {
			abandoned = append(abandoned, u.name)
		}
		slices.Sort(abandoned)
	}
	var shutdownErr error
	if len(abandoned) > 0 {
		shutdownErr = fmt.Errorf("%w: abandoned %s", ErrShutdownTimeout, strings.Join(abandoned, ", "))
		log.Error("shutdown deadline passed; abandoning what did not stop", slog.Any("abandoned", abandoned))
	} else if err := group.Wait(); err != nil && runErr == nil {
		runErr = err
	}
	// 4. Sinks, with what is left of the budget (at least a second),
	// except those whose consumer was abandoned (still in Deliver).
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(time.Second, p.spec.ShutdownTimeout-time.Since(stopStart)))
	defer cancel()
	toClose := slices.DeleteFunc(slices.Clone(p.sinks), func(s *sinkRunner) bool { return slices.Contains(abandoned, sinkUnit(s.name)) })
	sinkErr := p.closeSinks(closeCtx, toClose)
	err = errors.Join(runErr, shutdownErr, sinkErr)
	if err != nil {
		log.Error("pipeline stopped with errors", slog.String("error", err.Error()))
	} else {
		log.Info("pipeline stopped")
	}
	return err
}

// waitUnits waits until every running unit whose name starts with prefix
// returned, or ctx ends.
func (p *Pipeline) waitUnits(ctx context.Context, prefix string) {
	for _, u := range p.runningUnits() {
		if !strings.HasPrefix(u.name, prefix) {
			continue
		}
		select {
		case <-u.done:
		case <-ctx.Done():
			return
		}
	}
}

// startSinks starts sinks in order and returns those started.
func (p *Pipeline) startSinks(ctx context.Context) ([]*sinkRunner, error) {
	for i, s := range p.sinks {
		startCtx, cancel := context.WithTimeout(ctx, p.spec.ShutdownTimeout)
		err := s.start(startCtx)
		cancel()
		if err != nil {
			return p.sinks[:i], fmt.Errorf("start sink %s: %w", s.name, err)
		}
	}
	return p.sinks, nil
}

// closeSinks closes sinks, reporting every error.
func (p *Pipeline) closeSinks(ctx context.Context, sinks []*sinkRunner) error {
	var errs []error
	for _, s := range sinks {
		if err := s.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close sink %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}
