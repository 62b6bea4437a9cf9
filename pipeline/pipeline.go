package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// DefaultShutdownTimeout bounds shutdown when Spec.ShutdownTimeout is zero.
const DefaultShutdownTimeout = 30 * time.Second

// Pipeline is a built, runnable set of sources, sinks and routes over one
// journal. Build it with New and run it once with Run.
type Pipeline struct {
	spec      Spec
	journal   Journal
	set       Settings
	tel       *telemetry
	matchErrs *matchErrors
	// taps observe the live pipeline (tap.go); counters are the totals
	// Status reports (counters.go).
	taps     *tapHub
	counters *counterSet

	sources []*sourceRunner
	sinks   []*sinkRunner

	ready        atomic.Bool
	lastAppended atomic.Uint64
	ran          atomic.Bool
	// orphansLogged is set after the first reconcileCursors, which logs
	// every orphan; later passes log only what changed.
	orphansLogged bool

	// mu guards run and units while Run runs, and sources, sinks and
	// spec.Sinks while a Reload may swap them.
	mu    sync.Mutex
	run   *runState
	units map[string]*unit
	// pending are the sources a Reload built and has not started yet,
	// which the sinks it builds may name (SourceHandler).
	pending map[string]*sourceRunner

	// reloadMu serializes Reload, WithSinkStopped and the start of
	// shutdown; stopping is set (under it) once shutdown began.
	reloadMu sync.Mutex
	stopping bool
	// orphansKick wakes watchOrphans after a Reload.
	orphansKick chan struct{}
}

// sourceRunner is one built source with its host.
type sourceRunner struct {
	name   string
	source Source
	host   *sourceHost
}

// New builds every source and sink of spec with the factories in regs and
// provisions those that implement Provisioner. It does not start
// anything. Each sink's durable state (SinkState) is loaded from j and
// handed to its factory in Settings.State. If anything fails, New closes
// the sinks it already built and returns every error joined. The journal
// stays owned by the caller, which closes it after Run returns.
func New(ctx context.Context, spec Spec, regs Registries, j Journal, set Settings) (*Pipeline, error) {
	set = set.WithDefaults()
	if spec.ShutdownTimeout <= 0 {
		spec.ShutdownTimeout = DefaultShutdownTimeout
	}
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	p := &Pipeline{spec: spec, journal: j, set: set, tel: tel, units: map[string]*unit{}, orphansKick: make(chan struct{}, 1),
		matchErrs: newMatchErrors(tel, set.Logger.With("component", "routes"), set.Clock),
		taps:      newTapHub(set.Clock, tel), counters: newCounterSet()}
	p.set.Sources = p // sinks built now and by reloads reach the sources running then
	set = p.set
	var errs []error
	if j == nil {
		errs = append(errs, fmt.Errorf("%w: a journal is required", ErrInvalidConfig))
	}
	for _, ss := range spec.Sources {
		src, err := buildSource(ctx, ss, regs, set)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", ss.Name, err))
			errs = append(errs, closeSource(ctx, set.Logger, ss.Name, src))
			continue
		}
		p.sources = append(p.sources, p.newSourceRunner(ss, src))
	}
	for _, ks := range spec.Sinks {
		s, err := newSinkRunner(ctx, ks, &p.spec, regs, j, set, tel, p.matchErrs)
		if err == nil {
			s.taps, s.counts = p.taps, p.counters.sink(ks.Name)
			p.sinks = append(p.sinks, s)
			tel.zeroSink(s.attrs, throttles(ks, spec.Routes))
			err = provision(ctx, s.log, "sink "+ks.Name, s.sink)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", ks.Name, err))
		}
	}
	if len(errs) > 0 {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spec.ShutdownTimeout)
		defer cancel()
		errs = append(errs, p.closeSinks(closeCtx, p.sinks))
		for _, s := range p.sources {
			errs = append(errs, closeSource(closeCtx, set.Logger, s.name, s.source))
		}
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// newSourceRunner wraps a built source with its host, its counters
// created at zero.
func (p *Pipeline) newSourceRunner(ss SourceSpec, src Source) *sourceRunner {
	r := &sourceRunner{name: ss.Name, source: src, host: &sourceHost{
		name: ss.Name, journal: p.journal, tel: p.tel, clock: p.set.Clock,
		attrs:    sourceAttrs(ss.Name, ss.Type),
		onAppend: p.noteAppended, sinks: p.sinkNamed,
		taps: p.taps, counts: p.counters.source(ss.Name),
	}}
	p.tel.zeroSource(r.host.attrs)
	return r
}

// buildSource builds and provisions one source. When the factory
// succeeded and Provision failed, it returns the source with the error,
// for closeSource.
func buildSource(ctx context.Context, ss SourceSpec, regs Registries, set Settings) (Source, error) {
	f, ok := regs.Sources.Lookup(ss.Type)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, ss.Type)
	}
	ssSet := set.For("source", ss.Name)
	var src Source
	err := guard(ssSet.Logger, "source "+ss.Name+" factory", func() error {
		var err error
		src, err = f.NewSource(ctx, ssSet, ss.Config)
		return err
	})
	if err != nil {
		return nil, err
	}
	return src, provision(ctx, ssSet.Logger, "source "+ss.Name, src)
}

// sinkNamed returns the built sink of that name, or nil.
func (p *Pipeline) sinkNamed(name string) *sinkRunner {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sinkNamedLocked(name)
}

// sourceNamed returns the built source of that name, or nil.
func (p *Pipeline) sourceNamed(name string) *sourceRunner {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sourceNamedLocked(name)
}

// Ready reports whether the pipeline is running: sinks started and their
// consumers delivering. It turns false when shutdown begins.
func (p *Pipeline) Ready() bool { return p.ready.Load() }

// noteAppended tracks the newest appended sequence for the lag gauge.
func (p *Pipeline) noteAppended(last uint64) {
	for {
		cur := p.lastAppended.Load()
		if last <= cur || p.lastAppended.CompareAndSwap(cur, last) {
			return
		}
	}
}

// observeLag reports each sink's lag: appended but not yet handled.
func (p *Pipeline) observeLag(_ context.Context, o metric.Observer) error {
	last := p.lastAppended.Load()
	p.mu.Lock()
	sinks := slices.Clone(p.sinks)
	p.mu.Unlock()
	for _, s := range sinks {
		next := s.next.Load()
		var lag int64
		if next != 0 && last+1 > next {
			lag = int64(last + 1 - next)
		}
		o.ObserveInt64(p.tel.sinkLag, lag, s.attrs)
		var age float64
		if oldest := s.oldestPending.Load(); lag > 0 && oldest != 0 {
			age = max(0, p.set.Clock.Now().Sub(time.Unix(0, oldest)).Seconds())
		}
		o.ObserveFloat64(p.tel.sinkLagAge, age, s.attrs)
	}
	return nil
}
