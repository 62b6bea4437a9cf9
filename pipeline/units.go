package pipeline

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// This file runs each source and each sink consumer as its own unit under
// the run's errgroup, so that one can be stopped and started again on its
// own while the others run (hot reload builds on it). A unit that fails
// ends the run (errgroup cancels its context); a unit stopped on request
// returns nil.

// ErrNotRunning is returned when a component is started or stopped while
// Run is not running, and ErrUnitRunning when it is started twice.
var (
	ErrNotRunning  = errors.New("pipeline not running")
	ErrUnitRunning = errors.New("already running")
	ErrNoComponent = errors.New("no such component")
)

// runState is what Run shares with the units it starts.
type runState struct {
	group *errgroup.Group
	// ctx is the group's context: canceled when Run's ctx ends or a unit
	// fails. Sources run under it.
	ctx context.Context
	// consumers is the parent of consumers' contexts: canceled when
	// shutdown reaches them (after the sources stopped), or at hard.
	consumers context.Context
	// hard is canceled at the shutdown deadline only: in-flight Deliver
	// calls and commits run under it.
	hard context.Context
}

// unit is one running source or sink consumer.
type unit struct {
	name   string // "source NAME" or "sink NAME"
	cancel context.CancelFunc
	done   chan struct{}
}

func sourceUnit(name string) string { return "source " + name }
func sinkUnit(name string) string   { return "sink " + name }

// startUnit runs fn as the unit named key under the run's group.
func (p *Pipeline) startUnit(key string, parent func(*runState) context.Context, fn func(ctx context.Context, rs *runState) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := p.run
	if rs == nil {
		return fmt.Errorf("start %s: %w", key, ErrNotRunning)
	}
	if u, ok := p.units[key]; ok {
		select {
		case <-u.done:
		default:
			return fmt.Errorf("start %s: %w", key, ErrUnitRunning)
		}
	}
	ctx, cancel := context.WithCancel(parent(rs))
	u := &unit{name: key, cancel: cancel, done: make(chan struct{})}
	p.units[key] = u
	rs.group.Go(func() error {
		defer close(u.done)
		defer cancel()
		if err := fn(ctx, rs); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	return nil
}

// stopUnit asks the unit to stop and waits until it did or ctx ends.
func (p *Pipeline) stopUnit(ctx context.Context, key string) error {
	p.mu.Lock()
	u, ok := p.units[key]
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("stop %s: %w", key, ErrNotRunning)
	}
	u.cancel()
	select {
	case <-u.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop %s: %w", key, ctx.Err())
	}
}

// startSource runs the named source: its Run, with panics turned into its
// error.
func (p *Pipeline) startSource(name string) error {
	s := p.sourceNamed(name)
	if s == nil {
		return fmt.Errorf("start source %s: %w", name, ErrNoComponent)
	}
	return p.startUnit(sourceUnit(name), func(rs *runState) context.Context { return rs.ctx }, func(ctx context.Context, _ *runState) error {
		err := guard(p.set.Logger, sourceUnit(name)+" run", func() error { return s.source.Run(ctx, s.host) })
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return nil
		}
		return err
	})
}

// stopSource cancels the named source's Run and waits for it (or ctx).
func (p *Pipeline) stopSource(ctx context.Context, name string) error {
	return p.stopUnit(ctx, sourceUnit(name))
}

// startConsumer runs the named sink's consumer. The sink itself must be
// started (Start) already; the consumer resumes from the sink's cursor.
func (p *Pipeline) startConsumer(name string) error {
	s := p.sinkNamed(name)
	if s == nil {
		return fmt.Errorf("start sink %s: %w", name, ErrNoComponent)
	}
	return p.startUnit(sinkUnit(name), func(rs *runState) context.Context { return rs.consumers }, func(ctx context.Context, rs *runState) error {
		return s.consume(ctx, rs.hard)
	})
}

// stopConsumer stops the named sink's consumer: the in-flight delivery
// finishes, retry waits end (what is left is delivered at the next
// start), and it waits for that (or ctx).
func (p *Pipeline) stopConsumer(ctx context.Context, name string) error {
	return p.stopUnit(ctx, sinkUnit(name))
}

// unitsOf returns the running units whose keys start with prefix.
func (p *Pipeline) runningUnits() []*unit {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*unit
	for _, u := range p.units {
		select {
		case <-u.done:
		default:
			out = append(out, u)
		}
	}
	return out
}

// WithSinkStopped runs fn while the named sink's consumer is stopped, then
// starts the consumer again, so that fn may move or reset the sink's
// cursor (Journal.SetCursor) in a running engine: the consumer resumes
// from whatever cursor fn left, instead of committing over it. The sink
// itself stays started. It returns fn's error, or why the consumer could
// not be stopped (ctx ended first) or started again.
func (p *Pipeline) WithSinkStopped(ctx context.Context, sink string, fn func(ctx context.Context) error) error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if p.stopping {
		return fmt.Errorf("sink %s: %w", sink, ErrNotRunning)
	}
	if p.sinkNamed(sink) == nil {
		return fmt.Errorf("sink %s: %w", sink, ErrNoComponent)
	}
	if err := p.stopConsumer(ctx, sink); err != nil {
		return err
	}
	err := fn(ctx)
	return errors.Join(err, p.startConsumer(sink))
}
