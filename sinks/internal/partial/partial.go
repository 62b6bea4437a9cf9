// Package partial records the per-delivery outcomes of a batch that a
// sink sends as several requests, so that Deliver reports exactly which
// deliveries failed (pipeline.BatchError) and the runner retries only
// those, never the ones that took effect.
package partial

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/sluice-dev/sluice/pipeline"
)

// Ordering is a sink's "ordering" setting: what it does after a request of
// a batch failed transiently.
type Ordering string

const (
	// OrderingStrict (the default, also "") stops at the first transient
	// failure: what was delivered before it stays delivered, it and every
	// later event are retried, so the peer sees events in journal order.
	OrderingStrict Ordering = "strict"
	// OrderingRelaxed goes on with the next requests after a transient
	// failure (until MaxStreak fail in a row) and retries only the failed
	// ones: more throughput from a flaky peer, but a retried event
	// arrives after later ones.
	OrderingRelaxed Ordering = "relaxed"
)

// Validate accepts "", strict and relaxed.
func (o Ordering) Validate() error {
	switch o {
	case "", OrderingStrict, OrderingRelaxed:
		return nil
	}
	return fmt.Errorf("must be %q or %q, got %q", OrderingStrict, OrderingRelaxed, string(o))
}

// Ordered reports whether o keeps journal order (Outcomes.Ordered).
func (o Ordering) Ordered() bool { return o != OrderingRelaxed }

// MaxStreak is how many transient failures in a row make a sink stop
// sending the rest of a batch: the peer is struggling, and the runner's
// backoff should take over.
const MaxStreak = 3

// Outcomes collects the outcomes of one Deliver call. The zero value is
// ready; it is used by one goroutine.
type Outcomes struct {
	// Ordered stops sending at the first transient failure, so that what
	// is retried is a suffix of the batch and the peer sees events in
	// journal order. Without it the sink goes on after a failure (until
	// MaxStreak), and a retried event arrives after later ones.
	Ordered bool

	failed []pipeline.DeliveryFailure
	streak int
	stop   error
	took   bool
}

// Stopped returns the transient error that stopped sending, nil while
// the sink should go on.
func (o *Outcomes) Stopped() error { return o.stop }

// Took records that a request's deliveries took effect; it ends a streak
// of transient failures.
func (o *Outcomes) Took() {
	o.took = true
	o.streak = 0
}

// Refused records a permanent failure of delivery i.
func (o *Outcomes) Refused(i int, err error) {
	o.failed = append(o.failed, pipeline.DeliveryFailure{Index: i, Err: err})
}

// Failed records a transient failure of the deliveries idx. The sink
// stops sending when Ordered, when halt is true (no answer, or the peer
// asked to wait), when ctx has ended, or after MaxStreak failed requests
// in a row.
func (o *Outcomes) Failed(ctx context.Context, err error, halt bool, idx ...int) {
	for _, i := range idx {
		o.failed = append(o.failed, pipeline.DeliveryFailure{Index: i, Err: err})
	}
	o.streak++
	if o.Ordered || halt || ctx.Err() != nil || o.streak >= MaxStreak {
		o.stop = err
	}
}

// Unsent records deliveries not sent because sending stopped: they fail
// with the stopping error.
func (o *Outcomes) Unsent(idx ...int) {
	for _, i := range idx {
		o.failed = append(o.failed, pipeline.DeliveryFailure{Index: i, Err: o.stop})
	}
}

// Err is what Deliver returns for a batch of n deliveries: nil when all
// took effect; the failure itself for a batch of one; the first
// transient error when nothing took effect and nothing was refused (the
// whole batch is retried, as for any error); else a *pipeline.BatchError
// listing every failed delivery in batch order.
func (o *Outcomes) Err(n int) error {
	switch {
	case len(o.failed) == 0:
		return nil
	case n == 1:
		return o.failed[0].Err
	}
	slices.SortStableFunc(o.failed, func(a, b pipeline.DeliveryFailure) int { return cmp.Compare(a.Index, b.Index) })
	if !o.took && len(o.failed) == n {
		var first error
		for _, f := range o.failed {
			if pipeline.IsPermanent(f.Err) {
				return &pipeline.BatchError{Failed: o.failed}
			}
			if first == nil {
				first = f.Err
			}
		}
		return first
	}
	return &pipeline.BatchError{Failed: o.failed}
}
