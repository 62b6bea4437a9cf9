package pipeline

import (
	"context"
	"errors"
	"fmt"
)

// This file lets a route deliver events to a source of the same
// pipeline, for sources that act on requests as well as observe (the
// vmfault source approves Azure maintenance when a route hands it a
// sluice.vm.maintenance.approve event). The route targets a sink like any
// other; that sink (the built-in `source` sink) finds the source through
// Settings.Sources and hands it each batch:
//
//	h, err := set.Sources.SourceHandler("maintenance")
//	if err != nil { ... } // no such source, or it takes no events
//	err = h.HandleEvents(ctx, batch)
//
// The deliveries keep every guarantee of a sink's: they come from the
// journal through the sink's cursor, in order, retried with the sink's
// policy until the source says they took effect, dead-lettered when it
// says they never can.

// SourceHandler's errors wrap ErrUnknownSource (tap.go) for a name that
// is not a source of the pipeline, or these.
var (
	// ErrNotEventHandler is returned (wrapped) by SourceHandler for a
	// source that takes no events (it does not implement EventHandler).
	ErrNotEventHandler = errors.New("source takes no events")
	// ErrSourceNotRunning is returned (wrapped) by HandleEvents of a
	// source whose Run has returned (a source replaced by a reload, or
	// stopping): transient, the runner retries and finds the source that
	// runs now.
	ErrSourceNotRunning = errors.New("source not running")
)

// EventHandler is implemented by a source that takes events from routes.
//
// Contract: HandleEvents has Sink.Deliver's contract (nil only when
// every delivery took effect; a BatchError for some; Permanent for what
// retrying cannot fix; prompt return when ctx ends). It may be called
// concurrently with Run, from the sink's goroutine, and before Run starts
// (it may wait for Run) or after Run returned (it returns
// ErrSourceNotRunning promptly). Handling an event may emit events through
// the source's host.
type EventHandler interface {
	HandleEvents(ctx context.Context, batch []Delivery) error
}

// SourceHandlers finds the sources of a pipeline that take events.
type SourceHandlers interface {
	// SourceHandler returns the named source's EventHandler: the source
	// running now, so that a caller that keeps asking follows reloads.
	// Errors wrap ErrUnknownSource or ErrNotEventHandler.
	SourceHandler(name string) (EventHandler, error)
}

// SourceHandler implements SourceHandlers over the pipeline's sources,
// those a Reload in progress built first.
func (p *Pipeline) SourceHandler(name string) (EventHandler, error) {
	p.mu.Lock()
	s, ok := p.pending[name]
	if !ok {
		s = p.sourceNamedLocked(name)
	}
	p.mu.Unlock()
	if s == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownSource, name)
	}
	return handlerOf(name, s.source)
}

func handlerOf(name string, src Source) (EventHandler, error) {
	h, ok := src.(EventHandler)
	if !ok {
		return nil, fmt.Errorf("source %q: %w", name, ErrNotEventHandler)
	}
	return h, nil
}

// builtSources is the SourceHandlers of Provision: the sources it built.
type builtSources map[string]Source

func (b builtSources) SourceHandler(name string) (EventHandler, error) {
	src, ok := b[name]
	if !ok || src == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownSource, name)
	}
	return handlerOf(name, src)
}

// noSources is the SourceHandlers outside a pipeline.
type noSources struct{}

func (noSources) SourceHandler(name string) (EventHandler, error) {
	return nil, fmt.Errorf("%w %q (not in a pipeline)", ErrUnknownSource, name)
}
