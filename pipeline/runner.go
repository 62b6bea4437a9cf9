package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrShutdownTimeout is returned by Run when stopping took longer than the
// shutdown timeout. Nothing acknowledged is lost: what was not delivered is
// delivered after the next start.
var ErrShutdownTimeout = errors.New("shutdown timed out")

// Run starts the pipeline and blocks until ctx is canceled or a component
// fails, then stops it within Spec.ShutdownTimeout.
//
// Start order: sinks (Start), then the router and its journal consumers,
// then sources. Stop order: sources first (their ctx is canceled and Run
// waited for, so nothing new enters), then the router (in-flight deliveries
// finish; retry waits are abandoned and their batches left for the next
// start), then sinks (Close). Run owns every goroutine it starts and waits
// for them before returning. It returns nil after a clean stop caused by
// ctx, or the first component error.
func (p *Pipeline) Run(ctx context.Context) error {
	log := p.set.Logger
	if st, err := p.journal.Stats(ctx); err == nil {
		p.noteAppended(st.Last)
	}
	reg, err := p.set.MeterProvider.Meter(instrumentationScope).RegisterCallback(p.observeLag, p.tel.sinkLag, p.tel.sinkLagAge)
	if err != nil {
		return fmt.Errorf("register lag gauge: %w", err)
	}
	defer func() { _ = reg.Unregister() }()

	started, err := p.startSinks(ctx)
	if err != nil {
		return errors.Join(err, p.closeSinks(ctx, started))
	}

	// delivery is canceled only at the hard shutdown deadline, so that
	// in-flight deliveries can finish after ctx is canceled.
	delivery, cancelDelivery := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDelivery()
	stopping := make(chan struct{})
	sub := newJournalSubscriber(delivery, p.journal, p.sinks, log.With(slog.String("component", "consumer")))
	router, err := p.newRouter(sub, stopping)
	if err != nil {
		return errors.Join(err, p.closeSinks(ctx, started))
	}

	var core errgroup.Group
	routerDone := make(chan error, 1)
	core.Go(func() error {
		err := router.Run(delivery)
		routerDone <- err
		return err
	})
	select {
	case <-router.Running():
	case err := <-routerDone:
		_ = sub.Close()
		return errors.Join(routerStopped(err, sub), p.closeSinks(ctx, started))
	}

	// Sources get their own cancel: whatever ends the run (ctx, a source
	// failing, the router or a consumer failing) stops them first.
	srcCtx, cancelSources := context.WithCancel(ctx)
	defer cancelSources()
	sources, sourcesCtx := errgroup.WithContext(srcCtx)
	for _, s := range p.sources {
		sources.Go(func() error {
			if err := s.source.Run(sourcesCtx, s.host); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("source %s: %w", s.name, err)
			}
			return nil
		})
	}
	p.ready.Store(true)
	log.Info("pipeline running", slog.Int("sources", len(p.sources)), slog.Int("sinks", len(p.sinks)))

	var runErr error
	select {
	case <-sourcesCtx.Done(): // ctx canceled or a source failed
	case err := <-routerDone:
		runErr = routerStopped(err, sub)
		routerDone <- err
	case err := <-sub.failed:
		runErr = err
	}
	cancelSources()
	p.ready.Store(false)
	log.Info("pipeline stopping", slog.Duration("timeout", p.spec.ShutdownTimeout))
	stopStart := time.Now()
	deadline := time.AfterFunc(p.spec.ShutdownTimeout, cancelDelivery)
	defer deadline.Stop()

	// 1. Sources: nothing new enters the journal after this.
	srcErr := waitOrDeadline(delivery, sources.Wait)
	if errors.Is(srcErr, context.Canceled) {
		srcErr = fmt.Errorf("sources: %w", ErrShutdownTimeout)
	}
	// 2. Router: in-flight deliveries finish; retry waits end now.
	close(stopping)
	// Both waits end at the hard deadline at the latest: cancelling
	// delivery there ends in-flight Deliver calls and pending sends.
	routerErr := waitOrDeadline(delivery, router.Close)
	if errors.Is(routerErr, context.Canceled) {
		routerErr = ErrShutdownTimeout
	}
	grace, cancelGrace := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	_ = waitOrDeadline(grace, sub.Close)
	_ = waitOrDeadline(grace, core.Wait)
	cancelGrace()
	if routerErr != nil {
		routerErr = fmt.Errorf("router: %w", routerErr)
	}
	// 3. Sinks, with what is left of the budget (at least a second).
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(time.Second, p.spec.ShutdownTimeout-time.Since(stopStart)))
	defer cancel()
	sinkErr := p.closeSinks(closeCtx, p.sinks)
	err = errors.Join(runErr, srcErr, routerErr, sinkErr)
	if err != nil {
		log.Error("pipeline stopped with errors", slog.String("error", err.Error()))
	} else {
		log.Info("pipeline stopped")
	}
	return err
}

// routerStopped explains a router that stopped on its own: usually a
// consumer failed (its error is waiting on sub.failed), which made
// watermill stop the router once no handler was left.
func routerStopped(err error, sub *journalSubscriber) error {
	select {
	case cause := <-sub.failed:
		return cause
	case <-time.After(100 * time.Millisecond):
	}
	if err != nil {
		return fmt.Errorf("router stopped: %w", err)
	}
	return errors.New("router stopped unexpectedly")
}

// startSinks starts sinks in order and returns those started.
func (p *Pipeline) startSinks(ctx context.Context) ([]*sinkRunner, error) {
	for i, s := range p.sinks {
		startCtx, cancel := context.WithTimeout(ctx, p.spec.ShutdownTimeout)
		err := s.sink.Start(startCtx)
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
		if err := s.sink.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close sink %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// waitOrDeadline runs wait and returns its error, or ctx's error if ctx
// ends first (the waiting goroutine then finishes on its own).
func waitOrDeadline(ctx context.Context, wait func() error) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
