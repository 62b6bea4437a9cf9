package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// This file lets a source learn what a sink did with an event it emitted:
// a per-sequence completion signalled by the sink's live consumer. A
// source that answers its client only once a sink applied the request
// (the lbworker source's reply_after) uses it like this:
//
//	w, err := host.(pipeline.DeliveryWatcher).WatchDeliveries("haproxy")
//	if err != nil { ... } // unknown sink
//	defer w.Close()
//	res, err := host.Emit(ctx, events)
//	...
//	ctx, cancel := context.WithTimeout(ctx, timeout)
//	defer cancel()
//	completions, err := w.Wait(ctx, res.Last)

// DeliveryOutcome is what became of one journal record at one sink.
type DeliveryOutcome int

// Delivery outcomes. OutcomePending is the zero value: not known yet.
const (
	OutcomePending DeliveryOutcome = iota
	// OutcomeDelivered: the sink's Deliver reported that it took effect.
	OutcomeDelivered
	// OutcomeDeadLettered: the delivery was given up on (permanent error,
	// retries exhausted, or rejected by its route) and is in the
	// dead-letter store.
	OutcomeDeadLettered
	// OutcomeSkipped: the sink's consumer moved past the record without
	// delivering it: none of the sink's routes selected it, or a throttle
	// superseded it.
	OutcomeSkipped
)

// String names the outcome.
func (o DeliveryOutcome) String() string {
	switch o {
	case OutcomeDelivered:
		return "delivered"
	case OutcomeDeadLettered:
		return "dead-lettered"
	case OutcomeSkipped:
		return "skipped"
	default:
		return "pending"
	}
}

// Completion is what one sink did with one journal record.
type Completion struct {
	// Sink is the sink's name.
	Sink string
	// Seq is the record's journal sequence.
	Seq uint64
	// Outcome is what became of it.
	Outcome DeliveryOutcome
	// Err is the last error of a dead-lettered delivery, nil otherwise.
	Err error
	// Reason is the dead-letter reason (ReasonPermanent, ...), "" otherwise.
	Reason string
	// Result is what the sink attached to the delivery with SetResult
	// during the Deliver call that succeeded, nil if nothing.
	Result []byte
}

// DeliveryWatcher is implemented by the SourceHost a Pipeline hands its
// sources (assert it: other hosts, such as test fakes, may lack it).
//
// Contract:
//   - WatchDeliveries is called BEFORE the Emit whose event is to be
//     watched (that is what makes the watch race-free: the sink may handle
//     the event before Emit returns), then DeliveryWatch.Wait with the
//     event's sequence, then Close (always, also when Emit failed).
//   - A completion is signalled once the sink's live consumer has either
//     delivered the record (Deliver returned nil for it) or dead-lettered
//     it (durably stored), or moved its cursor past it without delivering
//     (skipped), and has committed its cursor (and its sink state) after
//     that. Redrives and replays signal nothing.
//   - The watch lives in memory only: after a restart the outcome of a
//     record emitted before it cannot be waited for. A sink that keeps
//     retrying transient failures never completes; callers bound Wait with
//     a ctx deadline.
//   - A watch costs nothing to sinks while no watch on them is open.
type DeliveryWatcher interface {
	// WatchDeliveries opens a watch on the named sinks (at least one),
	// or returns ErrUnknownSink for a name that is not a sink of the
	// pipeline.
	WatchDeliveries(sinks ...string) (*DeliveryWatch, error)
}

// DeliveryWatch waits for what a set of sinks did with one record. It is
// used by one goroutine.
type DeliveryWatch struct {
	hubs    []*completionHub
	tickets []*ticket
	bound   bool
	closed  bool
}

// Wait binds the watch to the record seq (the sequence Emit returned for
// the event; a watch binds once, later calls must pass the same seq) and
// waits until every watched sink completed it or ctx ends. It returns one
// Completion per watched sink, in the order given to WatchDeliveries;
// when ctx ends first, the error is ctx's and the sinks not done yet have
// OutcomePending.
func (w *DeliveryWatch) Wait(ctx context.Context, seq uint64) ([]Completion, error) {
	if w.closed {
		return nil, errors.New("pipeline: DeliveryWatch used after Close")
	}
	if !w.bound {
		for i, h := range w.hubs {
			h.bind(w.tickets[i], seq)
		}
		w.bound = true
	} else if w.tickets[0].seq != seq {
		return nil, fmt.Errorf("pipeline: DeliveryWatch bound to sequence %d, not %d", w.tickets[0].seq, seq)
	}
	out := make([]Completion, len(w.tickets))
	var err error
	for i, t := range w.tickets {
		if err == nil {
			select {
			case <-t.done:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		out[i] = Completion{Sink: w.hubs[i].sink, Seq: seq}
		select {
		case <-t.done:
			out[i] = t.c
		default:
		}
	}
	return out, err
}

// Close releases the watch. It is idempotent.
func (w *DeliveryWatch) Close() {
	if w.closed {
		return
	}
	w.closed = true
	for i, h := range w.hubs {
		h.release(w.tickets[i])
	}
}

// SetResult attaches result to the delivery d, for a source watching it
// (Completion.Result). A sink calls it from Deliver, with Deliver's ctx,
// before returning; the result of the Deliver call that succeeds counts.
// It reports whether anyone may read it: false outside a live consumer
// (replay, tests) or while no watch is open on the sink. result is
// copied.
func SetResult(ctx context.Context, d Delivery, result []byte) bool {
	h, _ := ctx.Value(resultsKey{}).(*completionHub)
	if h == nil || h.active.Load() == 0 {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.results == nil {
		h.results = map[uint64][]byte{}
	}
	h.results[d.Event.Sequence] = slices.Clone(result)
	return true
}

// resultsKey carries a live consumer's hub in its Deliver ctx.
type resultsKey struct{}

// ticket is one watch on one sink.
type ticket struct {
	seq  uint64
	done chan struct{}
	c    Completion
}

// completionHub is one sink's completions. The consumer records outcomes
// only while a watch is open (active > 0). An unbound ticket (opened, its
// event not yet appended or its sequence not yet given) needs every
// outcome at or above its floor, the sink's committed position when it
// was opened (its event gets a later sequence); outcomes below every
// unbound floor are dropped.
type completionHub struct {
	sink   string
	active atomic.Int64

	mu        sync.Mutex
	committed uint64 // every record below is completed
	unbound   map[*ticket]uint64
	bound     map[uint64][]*ticket
	outcomes  map[uint64]Completion
	results   map[uint64][]byte
}

func newCompletionHub(sink string) *completionHub {
	return &completionHub{sink: sink, unbound: map[*ticket]uint64{}, bound: map[uint64][]*ticket{}, outcomes: map[uint64]Completion{}}
}

func (h *completionHub) open() *ticket {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := &ticket{done: make(chan struct{})}
	h.unbound[t] = h.committed
	h.active.Add(1)
	return t
}

func (h *completionHub) bind(t *ticket, seq uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.unbound, t)
	t.seq = seq
	if c, ok := h.outcomes[seq]; ok {
		t.resolve(c)
	} else if seq < h.committed {
		t.resolve(Completion{Sink: h.sink, Seq: seq, Outcome: OutcomeSkipped})
	} else {
		h.bound[seq] = append(h.bound[seq], t)
	}
	h.prune()
}

func (h *completionHub) release(t *ticket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.unbound, t)
	if ts := h.bound[t.seq]; len(ts) > 0 {
		if ts = slices.DeleteFunc(ts, func(x *ticket) bool { return x == t }); len(ts) == 0 {
			delete(h.bound, t.seq)
		} else {
			h.bound[t.seq] = ts
		}
	}
	h.active.Add(-1)
	h.prune()
}

// takeResult returns and forgets the result set for seq.
func (h *completionHub) takeResult(seq uint64) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.results[seq]
	delete(h.results, seq)
	return r
}

// publish signals the outcomes cs and then that every record below
// committed is completed (those without an outcome were skipped). The
// consumer calls it after each cursor commit.
func (h *completionHub) publish(cs []Completion, committed uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keep := len(h.unbound) > 0
	for _, c := range cs {
		for _, t := range h.bound[c.Seq] {
			t.resolve(c)
		}
		delete(h.bound, c.Seq)
		if keep {
			h.outcomes[c.Seq] = c
		}
	}
	if committed > h.committed {
		h.committed = committed
		for seq, ts := range h.bound {
			if seq >= committed {
				continue
			}
			for _, t := range ts {
				t.resolve(Completion{Sink: h.sink, Seq: seq, Outcome: OutcomeSkipped})
			}
			delete(h.bound, seq)
		}
	}
	clear(h.results)
	h.prune()
}

// prune drops the outcomes no unbound ticket can need.
func (h *completionHub) prune() {
	if len(h.outcomes) == 0 {
		return
	}
	if len(h.unbound) == 0 {
		clear(h.outcomes)
		return
	}
	floor := h.committed
	for _, f := range h.unbound {
		floor = min(floor, f)
	}
	for seq := range h.outcomes {
		if seq < floor {
			delete(h.outcomes, seq)
		}
	}
}

func (t *ticket) resolve(c Completion) {
	select {
	case <-t.done:
	default:
		t.c = c
		close(t.done)
	}
}

// WatchDeliveries implements DeliveryWatcher.
func (h *sourceHost) WatchDeliveries(sinks ...string) (*DeliveryWatch, error) {
	if len(sinks) == 0 {
		return nil, fmt.Errorf("%w: no sink named", ErrUnknownSink)
	}
	w := &DeliveryWatch{}
	for _, name := range sinks {
		s := h.sinks(name)
		if s == nil {
			return nil, fmt.Errorf("%w %q", ErrUnknownSink, name)
		}
		w.hubs = append(w.hubs, s.hub)
	}
	for _, hub := range w.hubs {
		w.tickets = append(w.tickets, hub.open())
	}
	return w, nil
}

// noteDone buffers the outcomes of b's journal records for the next
// commit; errs[i] is the last error of a dead-lettered b.deliveries[i].
func (c *consumer) noteDone(b batch, outcome DeliveryOutcome, errs []error, reason string) {
	if c.hub.active.Load() == 0 {
		return
	}
	for i, d := range b.deliveries {
		cp := Completion{Sink: c.name, Seq: d.Event.Sequence, Outcome: outcome, Reason: reason}
		if outcome == OutcomeDelivered {
			cp.Result = c.hub.takeResult(cp.Seq)
		} else {
			cp.Err = errs[i]
		}
		c.done = append(c.done, cp)
	}
}

// noteRejected buffers the outcomes of records their route rejected.
func (c *consumer) noteRejected(rejected []rejection) {
	if c.hub.active.Load() == 0 {
		return
	}
	for _, r := range rejected {
		c.done = append(c.done, Completion{Sink: c.name, Seq: r.delivery.Event.Sequence, Outcome: OutcomeDeadLettered, Err: r.err, Reason: r.reason})
	}
}
