package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// This file lets an operator watch a running pipeline (`sluice tap`):
// what a source appended, what a route selected, what a sink delivered or
// gave up on. Observing never slows delivery: each subscriber has a
// bounded buffer, an observation that does not fit is dropped and
// counted, and nothing is built while no tap is open.

// TapKind is the kind of observation point.
type TapKind int

// Observation points.
const (
	// TapSource observes the events a source appended to the journal.
	TapSource TapKind = iota + 1
	// TapRoute observes the deliveries a route selected, per sink, when
	// that sink's consumer routes the record (after the route's match
	// and transform, before throttles and delivery), and the records the
	// route rejected (match on_error: dead_letter, transform failed).
	TapRoute
	// TapSink observes what became of the deliveries of a sink's live
	// consumer: delivered (Deliver took effect, redrives included) or
	// dead-lettered.
	TapSink
)

// String names the kind as the CLI flags do.
func (k TapKind) String() string {
	switch k {
	case TapSource:
		return "source"
	case TapRoute:
		return "route"
	case TapSink:
		return "sink"
	default:
		return fmt.Sprintf("TapKind(%d)", int(k))
	}
}

// TapPoint names one observation point: a source, route or sink of the
// pipeline.
type TapPoint struct {
	Kind TapKind
	Name string
}

// Tap outcomes: what a TapRecord reports.
const (
	TapAppended     = "appended"
	TapSelected     = "selected"
	TapDelivered    = "delivered"
	TapDeadLettered = "dead-lettered"
)

// TapRecord is one observation.
type TapRecord struct {
	// Kind is the observation point that matched.
	Kind TapKind
	// Source is the source that appended the event (its origin), Route
	// the route that selected it ("" for a source observation or a
	// redrive), Sink the sink ("" for a source observation).
	Source, Route, Sink string
	// Seq is the record's journal sequence.
	Seq uint64
	// Event is the event: as appended for a source, as the route's
	// transform left it for a route or sink. It is a copy the subscriber
	// owns, except Data and Extensions, which it must not modify.
	Event Event
	// Outcome is TapAppended, TapSelected, TapDelivered or
	// TapDeadLettered; Reason and Err (its error text) say why a delivery
	// was dead-lettered.
	Outcome     string
	Reason, Err string
	// Redrive reports a delivery of a redriven dead letter.
	Redrive bool
	// At is when it was observed.
	At time.Time
}

// ErrTapStopped ends a tap whose pipeline stopped; errors.Is also matches
// ErrNotRunning.
var ErrTapStopped = fmt.Errorf("pipeline stopped: %w", ErrNotRunning)

// ErrTapPointRemoved ends a tap when a Reload removed a source, route or
// sink it watches: Err then names each point that no longer exists.
var ErrTapPointRemoved = errors.New("a configuration reload removed it")

// ErrUnknownSource is returned by Tap for a source the pipeline does not
// have.
var ErrUnknownSource = errors.New("unknown source")

// DefaultTapBuffer is the observations a tap holds for its reader when
// Tap is given no buffer size.
const DefaultTapBuffer = 1024

// Tap is one subscriber's view of a running pipeline. Records delivers
// the observations, in the order each point made them; Records is closed
// after Close or when the pipeline stops (Err then says which).
type Tap struct {
	hub     *tapHub
	points  map[TapPoint]bool
	ch      chan TapRecord
	dropped atomic.Uint64
	err     error // set before ch is closed
}

// Records returns the observations. A reader that falls behind loses the
// observations that do not fit its buffer (counted by Dropped); it never
// slows the pipeline.
func (t *Tap) Records() <-chan TapRecord { return t.ch }

// Dropped returns how many observations did not fit the buffer so far.
func (t *Tap) Dropped() uint64 { return t.dropped.Load() }

// Err returns why Records was closed: nil after Close, ErrTapStopped when
// the pipeline stopped, an error wrapping ErrTapPointRemoved when a Reload
// removed a point it watches. It may be read once Records is closed.
func (t *Tap) Err() error { return t.err }

// Close ends the tap and closes Records. It is idempotent.
func (t *Tap) Close() { t.hub.remove(t, nil) }

// sortedPoints returns the points t watches, by kind then name.
func (t *Tap) sortedPoints() []TapPoint {
	pts := slices.Collect(maps.Keys(t.points))
	slices.SortFunc(pts, func(a, b TapPoint) int {
		if a.Kind != b.Kind {
			return cmp.Compare(a.Kind, b.Kind)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return pts
}

// Tap opens a tap on points (at least one) with room for buffer
// observations (<= 0: DefaultTapBuffer). A name the pipeline does not
// have is an error wrapping ErrUnknownSource, ErrUnknownRoute or
// ErrUnknownSink that lists the defined names; a pipeline that stopped
// (Run returned) is ErrTapStopped. Taps observe the live pipeline only:
// replays are not observed. A Reload that removes any point of a tap ends
// it (ErrTapPointRemoved).
func (p *Pipeline) Tap(buffer int, points ...TapPoint) (*Tap, error) {
	if len(points) == 0 {
		return nil, errors.New("tap: no source, route or sink named")
	}
	if buffer <= 0 {
		buffer = DefaultTapBuffer
	}
	t := &Tap{hub: p.taps, points: map[TapPoint]bool{}, ch: make(chan TapRecord, buffer)}
	for _, pt := range points {
		t.points[pt] = true
	}
	// p.mu is held from the check to the add, so that a Reload cannot
	// remove a point in between and leave the tap silent (endRemovedLocked).
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, pt := range points {
		if err := p.checkTapPointLocked(pt); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := p.taps.add(t); err != nil {
		return nil, err
	}
	return t, nil
}

// endRemovedTapsLocked ends, with ErrTapPointRemoved, every tap that
// watches a point the running spec no longer has. Reload calls it once
// the spec it applied is in place. p.mu is held.
func (p *Pipeline) endRemovedTapsLocked() {
	for _, t := range p.taps.list() {
		var gone []error
		for _, pt := range t.sortedPoints() {
			if p.checkTapPointLocked(pt) != nil {
				gone = append(gone, fmt.Errorf("%s %q no longer exists: %w", pt.Kind, pt.Name, ErrTapPointRemoved))
			}
		}
		if len(gone) > 0 {
			p.taps.remove(t, errors.Join(gone...))
		}
	}
}

// checkTapPointLocked checks that pt names a component of the running
// spec. p.mu is held.
func (p *Pipeline) checkTapPointLocked(pt TapPoint) error {
	var names []string
	var sentinel error
	switch pt.Kind {
	case TapSource:
		for _, s := range p.sources {
			names = append(names, s.name)
		}
		sentinel = ErrUnknownSource
	case TapSink:
		for _, s := range p.sinks {
			names = append(names, s.name)
		}
		sentinel = ErrUnknownSink
	case TapRoute:
		for _, rt := range p.spec.Routes {
			names = append(names, rt.Name)
		}
		sentinel = ErrUnknownRoute
	default:
		return fmt.Errorf("tap: invalid point kind %d", int(pt.Kind))
	}
	if slices.Contains(names, pt.Name) {
		return nil
	}
	defined := "none is defined"
	if len(names) > 0 {
		defined = "defined: " + strings.Join(names, ", ")
	}
	return fmt.Errorf("%w %q (%s)", sentinel, pt.Name, defined)
}

// tapHub holds a pipeline's taps. Its methods are safe on a nil hub
// (replays and provisioning have none) and cost one atomic load while no
// tap is open.
type tapHub struct {
	clock   Clock
	active  atomic.Int64
	dropped metric.Int64Counter
	open    metric.Int64UpDownCounter

	mu     sync.RWMutex
	taps   []*Tap
	closed bool
}

func newTapHub(clock Clock, tel *telemetry) *tapHub {
	h := &tapHub{clock: clock, dropped: tel.tapDropped, open: tel.tapSubscribers}
	h.dropped.Add(context.Background(), 0)
	h.open.Add(context.Background(), 0)
	return h
}

func (h *tapHub) add(t *Tap) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrTapStopped
	}
	h.taps = append(h.taps, t)
	h.active.Add(1)
	h.open.Add(context.Background(), 1)
	return nil
}

// list returns the open taps.
func (h *tapHub) list() []*Tap {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Clone(h.taps)
}

// remove ends t with err (nil: closed by its reader).
func (h *tapHub) remove(t *Tap, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.Index(h.taps, t)
	if i < 0 {
		return
	}
	h.taps = slices.Delete(h.taps, i, i+1)
	h.active.Add(-1)
	h.open.Add(context.Background(), -1)
	t.err = err
	close(t.ch)
}

// stop ends every tap with ErrTapStopped and refuses new ones. Run calls
// it when it returns.
func (h *tapHub) stop() {
	h.mu.Lock()
	taps := slices.Clone(h.taps)
	h.closed = true
	h.mu.Unlock()
	for _, t := range taps {
		h.remove(t, ErrTapStopped)
	}
}

// watching reports whether any tap is open.
func (h *tapHub) watching() bool { return h != nil && h.active.Load() > 0 }

// publish hands the n observations build makes to every tap on
// pt, without blocking: a tap whose buffer is full counts a drop.
func (h *tapHub) publish(pt TapPoint, n int, build func(i int) TapRecord) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var now time.Time
	for _, t := range h.taps {
		if !t.points[pt] {
			continue
		}
		if now.IsZero() {
			now = h.clock.Now()
		}
		for i := range n {
			rec := build(i)
			rec.Kind, rec.At = pt.Kind, now
			select {
			case t.ch <- rec:
			default:
				t.dropped.Add(1)
				h.dropped.Add(context.Background(), 1)
			}
		}
	}
}

// appended observes events a source appended as res.
func (h *tapHub) appended(source string, events []Event, res AppendResult) {
	if !h.watching() || res.Last == 0 {
		return
	}
	h.publish(TapPoint{Kind: TapSource, Name: source}, len(events), func(i int) TapRecord {
		e := events[i]
		e.Sequence = res.First + uint64(i)
		return TapRecord{Source: source, Seq: e.Sequence, Event: e, Outcome: TapAppended}
	})
}

// routed observes what a sink's consumer routed: the deliveries selected
// and the records rejected, each under its route.
func (h *tapHub) routed(sink string, deliveries []Delivery, rejected []rejection) {
	if !h.watching() {
		return
	}
	for _, d := range deliveries {
		h.publish(TapPoint{Kind: TapRoute, Name: d.Route}, 1, func(int) TapRecord {
			return deliveryRecord(sink, d, TapSelected, "", nil)
		})
	}
	for _, r := range rejected {
		h.publish(TapPoint{Kind: TapRoute, Name: r.delivery.Route}, 1, func(int) TapRecord {
			return deliveryRecord(sink, r.delivery, TapDeadLettered, r.reason, r.err)
		})
	}
}

// finished observes what became of deliveries at a sink: outcome is
// TapDelivered or TapDeadLettered (errs[i] the error of deliveries[i],
// errs nil for delivered).
func (h *tapHub) finished(sink string, b batch, outcome, reason string, errs []error) {
	if !h.watching() {
		return
	}
	h.publish(TapPoint{Kind: TapSink, Name: sink}, len(b.deliveries), func(i int) TapRecord {
		var err error
		if errs != nil {
			err = errs[i]
		}
		rec := deliveryRecord(sink, b.deliveries[i], outcome, reason, err)
		rec.Redrive = b.letters != nil
		return rec
	})
}

func deliveryRecord(sink string, d Delivery, outcome, reason string, err error) TapRecord {
	rec := TapRecord{Source: d.Event.Origin, Route: d.Route, Sink: sink, Seq: d.Event.Sequence, Event: d.Event,
		Outcome: outcome, Reason: reason}
	if err != nil {
		rec.Err = err.Error()
	}
	return rec
}

// rejected observes, at the sink, the records its routes rejected (they
// are dead-lettered without reaching the sink).
func (h *tapHub) rejected(sink string, rejected []rejection) {
	if !h.watching() {
		return
	}
	h.publish(TapPoint{Kind: TapSink, Name: sink}, len(rejected), func(i int) TapRecord {
		r := rejected[i]
		return deliveryRecord(sink, r.delivery, TapDeadLettered, r.reason, r.err)
	})
}
