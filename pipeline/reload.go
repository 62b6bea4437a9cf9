package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// ErrReloadRefused is returned by Reload when a new or changed component
// could not be built or provisioned: nothing was changed.
var ErrReloadRefused = errors.New("reload refused")

// ReloadReport says what a Reload did; each entry is "source NAME" or
// "sink NAME".
type ReloadReport struct {
	// Added were started, Removed stopped and closed.
	Added, Removed []string
	// Restarted were rebuilt from their new settings and started again.
	Restarted []string
	// Rerouted are sinks whose routes changed: their consumer restarted
	// on the new routes, the sink itself kept running.
	Rerouted []string
}

// Empty reports whether nothing changed.
func (r ReloadReport) Empty() bool {
	return len(r.Added)+len(r.Removed)+len(r.Restarted)+len(r.Rerouted) == 0
}

// reloadBuild holds what Reload built before it changed anything.
type reloadBuild struct {
	sources map[string]*sourceRunner
	sinks   map[string]*sinkRunner // added sinks only
}

// Reload moves the running pipeline to spec, restarting only the
// components that changed (see planReload), while the others go on.
//
// First every new or changed source and every new sink is built and
// provisioned, and every changed sink is built and provisioned without
// its state (as Provision does): if any fails, Reload closes what it
// built and returns ErrReloadRefused with every error, having changed
// nothing. Then, in order: removed sinks stop (their in-flight delivery
// finishes and is committed) and close; their cursors become orphans
// (reconcileCursors). A changed sink's consumer stops, the sink is built
// again with the state committed with its cursor, the old one closed and
// the new one started; if the new one cannot be, it is rolled back to
// its old settings (and if that fails too, Run fails). A rerouted sink's
// consumer stops and starts again on the new routes. New sinks start.
// Then removed and changed sources stop (a listener is released) and
// changed and new sources start. Every consumer resumes from its cursor:
// nothing delivered is sent again, nothing undelivered is skipped. Last,
// the taps on a removed source, route or sink end (ErrTapPointRemoved).
// Before any of that, every new sink's cursor is registered with the
// journal at the position its StartAt names (as Run does at start), so
// that retention keeps the backlog it starts at while the reload applies
// and whatever a source appends; a new sink that then fails to start
// leaves an orphan cursor (reconcileCursors).
//
// Once applying began, Reload ignores ctx's cancellation (each step is
// bounded by the shutdown timeout), so that a signal to stop does not
// leave a component half replaced; shutdown waits for it. It returns
// what it did and, after a partial failure, the errors. It returns
// ErrNotRunning unless Run is running and ready.
func (p *Pipeline) Reload(ctx context.Context, spec Spec, regs Registries) (ReloadReport, error) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	p.mu.Lock()
	running := p.run != nil
	old := p.spec
	p.mu.Unlock()
	if !running || p.stopping || !p.ready.Load() {
		return ReloadReport{}, fmt.Errorf("reload: %w", ErrNotRunning)
	}
	if spec.ShutdownTimeout <= 0 {
		spec.ShutdownTimeout = DefaultShutdownTimeout
	}
	plan := planReload(&old, &spec)
	defer func() {
		p.mu.Lock()
		p.pending = nil
		p.mu.Unlock()
	}()
	built, err := p.buildReload(ctx, &spec, regs, plan)
	if err != nil {
		return ReloadReport{}, err
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.ShutdownTimeout)
	defer cancel()
	var rep ReloadReport
	var errs []error
	// applied is the spec actually running: the new one, except where a
	// change failed and the old settings stay.
	applied := spec
	applied.Sinks = slices.Clone(spec.Sinks)
	added := make([]*sinkRunner, 0, len(plan.addSinks))
	for _, name := range plan.addSinks {
		added = append(added, built.sinks[name])
	}
	registerSinks(actx, added)

	for _, name := range plan.removeSinks {
		if err := p.removeSink(actx, name); err != nil {
			errs = append(errs, err)
			applied.Sinks = append(applied.Sinks, *specOf(old.Sinks, name))
			continue
		}
		rep.Removed = append(rep.Removed, sinkUnit(name))
	}
	for _, name := range plan.changeSinks {
		if err := p.replaceSink(actx, &old, &spec, regs, name); err != nil {
			errs = append(errs, err)
			*specOf(applied.Sinks, name) = *specOf(old.Sinks, name)
			continue
		}
		rep.Restarted = append(rep.Restarted, sinkUnit(name))
	}
	for _, name := range plan.rerouteSinks {
		if err := p.rerouteSink(actx, &spec, name); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Rerouted = append(rep.Rerouted, sinkUnit(name))
	}
	for _, name := range plan.addSinks {
		if err := p.addSink(actx, built.sinks[name]); err != nil {
			errs = append(errs, err)
			applied.Sinks = slices.DeleteFunc(applied.Sinks, func(k SinkSpec) bool { return k.Name == name })
			continue
		}
		rep.Added = append(rep.Added, sinkUnit(name))
	}
	for _, name := range slices.Concat(plan.removeSources, plan.changeSources) {
		if err := p.stopSource(actx, name); err != nil {
			errs = append(errs, err)
			if ns, ok := built.sources[name]; ok {
				_ = closeSource(actx, p.set.Logger, name, ns.source)
				delete(built.sources, name) // the old one keeps running
			}
			continue
		}
		p.mu.Lock()
		s := p.sourceNamedLocked(name)
		p.sources = slices.DeleteFunc(p.sources, func(r *sourceRunner) bool { return r.name == name })
		p.mu.Unlock()
		if s != nil {
			if err := closeSource(actx, p.set.Logger, name, s.source); err != nil {
				errs = append(errs, fmt.Errorf("source %s: close: %w", name, err))
			}
		}
		if !slices.Contains(plan.changeSources, name) {
			rep.Removed = append(rep.Removed, sourceUnit(name))
		}
	}
	for _, name := range slices.Concat(plan.changeSources, plan.addSources) {
		ns, ok := built.sources[name]
		if !ok {
			continue
		}
		p.mu.Lock()
		p.sources = append(p.sources, ns)
		p.mu.Unlock()
		if err := p.startSource(name); err != nil {
			errs = append(errs, err)
			continue
		}
		if slices.Contains(plan.changeSources, name) {
			rep.Restarted = append(rep.Restarted, sourceUnit(name))
		} else {
			rep.Added = append(rep.Added, sourceUnit(name))
		}
	}
	p.mu.Lock()
	p.spec = applied
	p.endRemovedTapsLocked()
	p.mu.Unlock()
	if len(plan.removeSinks) > 0 {
		select {
		case p.orphansKick <- struct{}{}:
		default:
		}
	}
	return rep, errors.Join(errs...)
}

// buildReload builds and provisions the new and changed sources and the
// new sinks, and checks that the changed sinks build and provision. On
// any error it closes what it built and returns ErrReloadRefused.
func (p *Pipeline) buildReload(ctx context.Context, spec *Spec, regs Registries, plan reloadPlan) (reloadBuild, error) {
	b := reloadBuild{sources: map[string]*sourceRunner{}, sinks: map[string]*sinkRunner{}}
	var errs []error
	for _, name := range slices.Concat(plan.changeSources, plan.addSources) {
		ss := specOfSource(spec.Sources, name)
		src, err := buildSource(ctx, *ss, regs, p.set)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", name, err), closeSource(ctx, p.set.Logger, name, src))
			continue
		}
		b.sources[name] = p.newSourceRunner(*ss, src)
	}
	p.mu.Lock()
	p.pending = b.sources // for SourceHandler, until Reload returns
	p.mu.Unlock()
	for _, name := range plan.addSinks {
		s, err := p.buildSink(ctx, spec, regs, name, p.journal)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b.sinks[name] = s
	}
	for _, name := range plan.changeSinks {
		s, err := p.buildSink(ctx, spec, regs, name, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := s.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: close: %w", name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		for name, s := range b.sources {
			_ = closeSource(ctx, p.set.Logger, name, s.source)
		}
		for _, s := range b.sinks {
			_ = s.close(ctx)
		}
		return reloadBuild{}, fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	return b, nil
}

// buildSink builds and provisions the named sink of spec, its state
// loaded from j (nil: no state, as Provision).
func (p *Pipeline) buildSink(ctx context.Context, spec *Spec, regs Registries, name string, j Journal) (*sinkRunner, error) {
	ks := specOf(spec.Sinks, name)
	s, err := newSinkRunner(ctx, *ks, spec, regs, j, p.set, p.tel, p.matchErrs)
	if err == nil {
		s.taps, s.counts = p.taps, p.counters.sink(name)
		if j != nil {
			p.tel.zeroSink(s.attrs, throttles(*ks, spec.Routes))
		}
		if err = provision(ctx, s.log, "sink "+name, s.sink); err != nil {
			_ = s.close(ctx)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", name, err)
	}
	return s, nil
}

// removeSink stops the named sink's consumer and closes the sink.
func (p *Pipeline) removeSink(ctx context.Context, name string) error {
	if err := p.stopConsumer(ctx, name); err != nil {
		return err
	}
	p.mu.Lock()
	s := p.sinkNamedLocked(name)
	p.sinks = slices.DeleteFunc(p.sinks, func(r *sinkRunner) bool { return r.name == name })
	p.mu.Unlock()
	if err := s.close(ctx); err != nil {
		return fmt.Errorf("close sink %s: %w", name, err)
	}
	return nil
}

// replaceSink rebuilds the named sink from spec once its consumer has
// stopped (so that its state is the one committed last), closes the old
// one and starts the new one, rolling back to old's settings when the new
// one cannot be built or started.
func (p *Pipeline) replaceSink(ctx context.Context, old, spec *Spec, regs Registries, name string) error {
	if err := p.stopConsumer(ctx, name); err != nil {
		return err
	}
	cur := p.sinkNamed(name)
	ns, err := p.buildSink(ctx, spec, regs, name, p.journal)
	if err != nil {
		return errors.Join(fmt.Errorf("%w (it keeps running on its old settings)", err), p.startConsumer(name))
	}
	if err := cur.close(ctx); err != nil {
		p.set.Logger.Warn("closing the replaced sink failed", slog.String("sink", name), slog.String("error", err.Error()))
	}
	startErr := ns.start(ctx)
	if startErr == nil {
		p.swapSink(ns)
		return p.startConsumer(name)
	}
	_ = ns.close(ctx)
	startErr = fmt.Errorf("start sink %s: %w", name, startErr)
	back, err := p.buildSink(ctx, old, regs, name, p.journal)
	if err == nil {
		if err = back.start(ctx); err != nil {
			_ = back.close(ctx)
		}
	}
	if err != nil {
		fatal := fmt.Errorf("%w; rolling back to its old settings failed too: %w", startErr, err)
		p.fail(fatal)
		return fatal
	}
	p.swapSink(back)
	return errors.Join(fmt.Errorf("%w (rolled back to its old settings)", startErr), p.startConsumer(name))
}

// rerouteSink restarts the named sink's consumer on spec's routes.
func (p *Pipeline) rerouteSink(ctx context.Context, spec *Spec, name string) error {
	if err := p.stopConsumer(ctx, name); err != nil {
		return err
	}
	s := p.sinkNamed(name)
	s.routes = newSinkRoutes(name, spec.Routes, p.matchErrs)
	s.allRts = spec.Routes
	return p.startConsumer(name)
}

// addSink starts a sink built by buildReload and its consumer.
func (p *Pipeline) addSink(ctx context.Context, s *sinkRunner) error {
	if err := s.start(ctx); err != nil {
		_ = s.close(ctx)
		return fmt.Errorf("start sink %s: %w", s.name, err)
	}
	p.mu.Lock()
	p.sinks = append(p.sinks, s)
	p.mu.Unlock()
	return p.startConsumer(s.name)
}

// swapSink puts s in the place of the sink of the same name.
func (p *Pipeline) swapSink(s *sinkRunner) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range p.sinks {
		if r.name == s.name {
			p.sinks[i] = s
		}
	}
}

// fail ends Run with err, as a failing component would.
func (p *Pipeline) fail(err error) {
	p.mu.Lock()
	rs := p.run
	p.mu.Unlock()
	rs.group.Go(func() error { return err })
}

func (p *Pipeline) sinkNamedLocked(name string) *sinkRunner {
	for _, s := range p.sinks {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (p *Pipeline) sourceNamedLocked(name string) *sourceRunner {
	for _, s := range p.sources {
		if s.name == name {
			return s
		}
	}
	return nil
}

func specOf(sinks []SinkSpec, name string) *SinkSpec {
	for i := range sinks {
		if sinks[i].Name == name {
			return &sinks[i]
		}
	}
	return nil
}

func specOfSource(sources []SourceSpec, name string) *SourceSpec {
	for i := range sources {
		if sources[i].Name == name {
			return &sources[i]
		}
	}
	return nil
}
