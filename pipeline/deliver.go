package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// errStopping is returned by a delivery abandoned because its consumer is
// stopping; what was not delivered stays behind the cursor and is
// delivered after the next start.
var errStopping = errors.New("pipeline stopping")

// Dead-letter reasons.
const (
	ReasonPermanent        = "permanent"
	ReasonRetriesExhausted = "retries exhausted"
	ReasonTransformFailed  = "transform failed"
	ReasonMatchFailed      = "match failed"
)

// batch is what one deliver call hands to a sink: deliveries read from the
// journal, or dead letters being redriven (letters[i] is the letter that
// deliveries[i] redrives; nil for journal records).
type batch struct {
	deliveries []Delivery
	letters    []DeadLetter
}

// pick returns the deliveries of b at the given indices, in that order.
func (b batch) pick(idx []int) batch {
	out := batch{deliveries: make([]Delivery, len(idx))}
	if b.letters != nil {
		out.letters = make([]DeadLetter, len(idx))
	}
	for i, k := range idx {
		out.deliveries[i] = b.deliveries[k]
		if b.letters != nil {
			out.letters[i] = b.letters[k]
		}
	}
	return out
}

// history is what a delivery went through before it was given up on.
type history struct {
	attempts int
	firstErr error
	firstAt  time.Time
}

// outcomes is told what became of each delivery of a batch: the live
// consumer resolves redriven letters, commits its cursor and dead-letters;
// replay only counts. An error from a method stops the delivery at once and
// is returned by deliver (the consumer then fails).
type outcomes interface {
	// delivered is called with deliveries that took effect.
	delivered(ctx context.Context, b batch) error
	// pending is called after a partial success with the deliveries still
	// to be retried: everything of the batch before the first of them is
	// handled.
	pending(ctx context.Context, b batch) error
	// failed is called with deliveries given up on; errs[i] is the last
	// error of b.deliveries[i].
	failed(ctx context.Context, b batch, errs []error, reason string, h history) error
	// handBack is called with deliveries that failed transiently before
	// they are retried in process: true means they were settled otherwise
	// (handed back to the journal or dead-lettered, handback.go) and are
	// not retried here.
	handBack(ctx context.Context, b batch, errs []error, h history) (bool, error)
}

// deliver hands b to the sink until every delivery took effect or was
// given up on, retrying with the sink's policy (see retry). A BatchError
// is honoured: the deliveries it does not list took effect and are never
// sent again, its permanent failures are given up on at once, and only its
// transient failures are retried (after out.pending). A whole-batch
// permanent error, or the policy giving up, hands what is left to
// out.failed. Deliver calls run with hard (canceled only at the shutdown
// deadline); waits end with ctx, and deliver then returns errStopping with
// what is left undelivered.
func (s *sinkRunner) deliver(ctx, hard context.Context, b batch, out outcomes) error {
	h := history{firstAt: s.clock.Now()}
	pending, errs := b, []error(nil)
	var stop error // an outcomes error: ends the delivery
	err := retry(ctx, s.clock, s.retry, func(attempt int, wait time.Duration, err error) {
		s.tel.sinkRetries.Add(hard, 1, s.attrs)
		s.counts.retries.Add(1)
		s.log.Warn("delivery failed, retrying", slog.Int("attempt", attempt), slog.Duration("wait", wait),
			slog.Int("events", len(pending.deliveries)), slog.Uint64("first_seq", pending.deliveries[0].Event.Sequence),
			slog.String("error", err.Error()))
	}, func(attempt int) error {
		h.attempts = attempt
		start := s.clock.Now()
		err := s.attempt(hard, pending.deliveries, attempt)
		if err == nil {
			s.tel.sinkDelivered.Add(hard, int64(len(pending.deliveries)), s.attrs)
			s.counts.delivered.Add(uint64(len(pending.deliveries)))
			s.tel.sinkDuration.Record(hard, sinceSeconds(s.clock, start), s.attrs)
			if attempt > 1 {
				s.log.Info("delivery recovered", slog.Int("attempts", attempt), slog.Duration("after", s.clock.Now().Sub(h.firstAt)))
			}
			stop = out.delivered(hard, pending)
			return Permanent(stop)
		}
		if h.firstErr == nil {
			h.firstErr = err
		}
		var be *BatchError
		if errors.As(err, &be) {
			if split, ok := splitBatchError(pending, be); ok {
				s.tel.sinkFailures.Add(hard, 1, s.attrs, metric.WithAttributes(attribute.String("kind", "partial")))
				s.tel.sinkDelivered.Add(hard, int64(len(split.done)), s.attrs)
				s.counts.delivered.Add(uint64(len(split.done)))
				s.counts.failures.Add(1)
				if stop = out.delivered(hard, pending.pick(split.done)); stop != nil {
					return Permanent(stop)
				}
				if len(split.permanent) > 0 {
					if stop = out.failed(hard, pending.pick(split.permanent), pick(split.errs, split.permanent), ReasonPermanent, h); stop != nil {
						return Permanent(stop)
					}
				}
				pending, errs = pending.pick(split.transient), pick(split.errs, split.transient)
				if len(pending.deliveries) == 0 {
					return nil
				}
				if handed, herr := out.handBack(hard, pending, errs, h); handed {
					stop = herr
					return Permanent(stop)
				}
				if stop = out.pending(hard, pending); stop != nil {
					return Permanent(stop)
				}
				return err // transient: retry what is left
			}
			s.log.Error("sink reported a partial failure with no valid index; treating the whole batch as failed",
				slog.Int("events", len(pending.deliveries)))
			if allPermanent(be) {
				err = Permanent(err)
			}
		}
		errs = nil
		kind := "transient"
		if IsPermanent(err) {
			kind = "permanent"
		}
		s.tel.sinkFailures.Add(hard, 1, s.attrs, metric.WithAttributes(attribute.String("kind", kind)))
		s.counts.failures.Add(1)
		if kind == "transient" {
			if handed, herr := out.handBack(hard, pending, sameErr(err, len(pending.deliveries)), h); handed {
				stop = herr
				return Permanent(stop)
			}
		}
		return err
	})
	switch {
	case stop != nil:
		return stop
	case err == nil:
		return nil
	case errors.Is(err, errStopping):
		return errStopping
	}
	reason := ReasonPermanent
	if errors.Is(err, errRetriesExhausted) {
		reason = ReasonRetriesExhausted
	}
	if errs == nil {
		errs = sameErr(err, len(pending.deliveries))
	}
	return out.failed(hard, pending, errs, reason, h)
}

// sameErr returns n times err.
func sameErr(err error, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// attempt calls Deliver once inside a span. A panic becomes a permanent
// error of the sink, logged with its stack, so that one bad event can
// neither crash the engine nor loop.
func (s *sinkRunner) attempt(ctx context.Context, deliveries []Delivery, attempt int) (err error) {
	ctx, span := startEventsSpan(ctx, s.tel.tracer, "sink.deliver", len(deliveries),
		func(i int) string { return deliveries[i].Event.TraceParent }, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("sluice.sink", s.name), attribute.Int("sluice.events", len(deliveries)),
			attribute.Int("sluice.attempt", attempt), attribute.Int64("sluice.seq.first", int64(deliveries[0].Event.Sequence))))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	err = guard(s.log, "sink "+s.name+" deliver", func() error { return s.sink.Deliver(ctx, deliveries) })
	if errors.Is(err, ErrPanic) {
		err = Permanent(err)
	}
	return err
}

// batchSplit sorts the deliveries of a batch by a BatchError's outcome
// (indices into the batch) and keeps each failure's error.
type batchSplit struct {
	done, permanent, transient []int
	errs                       []error
}

// splitBatchError applies be to b. It reports false when be names no valid
// index (a sink bug: the caller treats the whole batch as failed).
func splitBatchError(b batch, be *BatchError) (batchSplit, bool) {
	n := len(b.deliveries)
	sp := batchSplit{errs: make([]error, n)}
	for _, f := range be.Failed {
		if f.Index < 0 || f.Index >= n || sp.errs[f.Index] != nil {
			continue
		}
		sp.errs[f.Index] = f.Err
		if f.Err == nil { // a sink bug: retry rather than lose it
			sp.errs[f.Index] = errors.New("sink reported a failed delivery without an error")
		}
	}
	for i, err := range sp.errs {
		switch {
		case err == nil:
			sp.done = append(sp.done, i)
		case IsPermanent(err):
			sp.permanent = append(sp.permanent, i)
		default:
			sp.transient = append(sp.transient, i)
		}
	}
	return sp, len(sp.done) < n
}

func allPermanent(be *BatchError) bool {
	if len(be.Failed) == 0 {
		return false
	}
	for _, f := range be.Failed {
		if !IsPermanent(f.Err) {
			return false
		}
	}
	return true
}

// pick returns xs at the given indices.
func pick[T any](xs []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, k := range idx {
		out[i] = xs[k]
	}
	return out
}
