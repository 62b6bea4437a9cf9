package httpclient

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

// Bisection says how Bisect sends a run of items (events, by index or by
// value) and what it does with refusals.
type Bisection[T any] struct {
	// Send sends items as one request and returns nil when the peer took
	// them, a pipeline.Permanent error when it refused them, and any other
	// error when retrying may succeed.
	Send func(ctx context.Context, items []T) error
	// Splittable reports whether a permanent error may be about the
	// content of the request, so that smaller requests can succeed
	// (typically a StatusError whose status is Bisectable).
	Splittable func(err error) bool
	// Refuse records items refused with err, which stand alone or whose
	// refusal is not Splittable. A non-nil return (the peer refused the
	// credentials, say) stops the bisection: the items not sent yet are
	// passed to Refuse with that error without being sent.
	Refuse func(items []T, err error) (stop error)
	// Split, when set, is told of every request that is about to be split.
	Split func(items []T, err error)
}

// Bisect sends items with b.Send. When the peer refuses a request of
// several items permanently and b.Splittable says the refusal may be
// about its content, Bisect sends each half in turn, recursively, until
// the refused items stand alone: k refused items among n cost O(k log n)
// requests, and every other item is sent exactly once by this call, in
// order. It returns the first error that is not permanent (nothing after
// it is sent) and nil otherwise; permanent refusals go to b.Refuse.
func Bisect[T any](ctx context.Context, items []T, b Bisection[T]) error {
	_, err := bisect(ctx, items, &b)
	return err
}

// bisect returns the stop error of b.Refuse, if any, and the transient
// error that ended it.
func bisect[T any](ctx context.Context, items []T, b *Bisection[T]) (stop, err error) {
	if len(items) == 0 {
		return nil, nil
	}
	err = b.Send(ctx, items)
	if err == nil {
		return nil, nil
	}
	if !pipeline.IsPermanent(err) {
		return nil, err
	}
	if len(items) == 1 || !b.Splittable(err) {
		return b.Refuse(items, err), nil
	}
	if b.Split != nil {
		b.Split(items, err)
	}
	mid := len(items) / 2
	if stop, err = bisect(ctx, items[:mid], b); err != nil {
		return nil, err
	}
	if stop != nil {
		_ = b.Refuse(items[mid:], stop) // unsent; already stopping
		return stop, nil
	}
	return bisect(ctx, items[mid:], b)
}
