package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// errStopping is returned by a delivery abandoned because the pipeline is
// shutting down; the batch stays unacknowledged and is delivered after the
// next start.
var errStopping = errors.New("pipeline stopping")

// Dead-letter reasons.
const (
	ReasonPermanent        = "permanent"
	ReasonRetriesExhausted = "retries exhausted"
	ReasonTransformFailed  = "transform failed"
	ReasonMatchFailed      = "match failed"
)

// sinkRunner owns one sink: its routes, retry policy and delivery loop.
type sinkRunner struct {
	name        string
	sink        Sink
	routes      *sinkRoutes
	retry       RetryConfig
	batch       BatchConfig
	log         *slog.Logger
	clock       Clock
	tel         *telemetry
	attrs       metric.MeasurementOption
	deadLetters DeadLetterStore
	throttles   *sinkThrottles

	backoff *backoff.ExponentialBackOff
	// next is the next sequence the sink has not yet handled, for lag.
	next atomic.Uint64
	// oldestPending is the append time (unix nanos) of the oldest record
	// read but not yet handled, 0 when caught up; for the lag age gauge.
	oldestPending atomic.Int64
}

// messageBatch is what the sink runner delivers in one go: deliveries read
// from the journal, or dead letters being redriven (letters[i] is the
// letter of deliveries[i]).
type messageBatch struct {
	deliveries []Delivery
	letters    []DeadLetter
}

// deliver hands b to the sink, retrying transient failures with backoff
// until it succeeds, the retry policy gives up, or stopping is closed.
// Deliveries that cannot succeed are dead-lettered. It returns nil when
// the batch is handled and an error when it must be delivered again (after
// a restart, or when the dead-letter store failed).
func (s *sinkRunner) deliver(ctx context.Context, stopping <-chan struct{}, b *messageBatch) error {
	batch := b.deliveries
	var firstErr error
	firstAt := s.clock.Now()
	s.backoff.Reset() // MaxElapsed counts from this batch's first attempt
	for attempt := 1; ; attempt++ {
		start := s.clock.Now()
		err := s.attempt(ctx, batch, attempt)
		if err == nil {
			s.backoff.Reset()
			s.tel.sinkDelivered.Add(ctx, int64(len(batch)), s.attrs)
			s.tel.sinkDuration.Record(ctx, sinceSeconds(s.clock, start), s.attrs)
			if attempt > 1 {
				s.log.Info("delivery recovered", slog.Int("attempts", attempt), slog.Duration("after", s.clock.Now().Sub(firstAt)))
			}
			return s.resolveRedrive(ctx, b, nil)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if firstErr == nil {
			firstErr = err
		}
		var be *BatchError
		if errors.As(err, &be) && allPermanent(be) {
			s.tel.sinkFailures.Add(ctx, 1, s.attrs, metric.WithAttributes(attribute.String("kind", "partial")))
			s.tel.sinkDelivered.Add(ctx, int64(len(batch)-len(be.Failed)), s.attrs)
			s.backoff.Reset()
			failures := make([]failure, 0, len(be.Failed))
			for _, f := range be.Failed {
				failures = append(failures, failure{index: f.Index, err: f.Err})
			}
			return s.giveUp(ctx, b, failures, attempt, firstErr, firstAt, ReasonPermanent)
		}
		permanent := IsPermanent(err)
		kind := "transient"
		if permanent {
			kind = "permanent"
		}
		s.tel.sinkFailures.Add(ctx, 1, s.attrs, metric.WithAttributes(attribute.String("kind", kind)))
		if permanent {
			s.backoff.Reset()
			return s.giveUp(ctx, b, allFailed(len(batch), err), attempt, firstErr, firstAt, ReasonPermanent)
		}
		wait := s.backoff.NextBackOff()
		if wait == backoff.Stop {
			s.backoff.Reset()
			return s.giveUp(ctx, b, allFailed(len(batch), err), attempt, firstErr, firstAt, ReasonRetriesExhausted)
		}
		s.tel.sinkRetries.Add(ctx, 1, s.attrs)
		s.log.Warn("delivery failed, retrying",
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.Int("events", len(batch)),
			slog.Uint64("first_seq", batch[0].Event.Sequence), slog.String("error", err.Error()))
		timer := s.clock.NewTimer(wait)
		select {
		case <-timer.C():
		case <-stopping:
			timer.Stop()
			return errStopping
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
}

// attempt calls Deliver once inside a span, turning a panic into a
// permanent error so that one bad event cannot crash the engine or loop.
func (s *sinkRunner) attempt(ctx context.Context, batch []Delivery, attempt int) (err error) {
	links := make([]trace.Link, 0, min(len(batch), 16))
	for i := 0; i < len(batch) && i < 16; i++ {
		if sc := trace.SpanContextFromContext(contextWithTraceParent(context.Background(), batch[i].Event.TraceParent)); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	ctx, span := s.tel.tracer.Start(ctx, "sink.deliver", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithLinks(links...),
		trace.WithAttributes(attribute.String("sluice.sink", s.name), attribute.Int("sluice.events", len(batch)),
			attribute.Int("sluice.attempt", attempt), attribute.Int64("sluice.seq.first", int64(batch[0].Event.Sequence))))
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("sink %s panicked: %v", s.name, r))
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	return s.sink.Deliver(ctx, batch)
}

// failure is one delivery of a batch that will not succeed.
type failure struct {
	index int
	err   error
}

func allFailed(n int, err error) []failure {
	out := make([]failure, n)
	for i := range out {
		out[i] = failure{index: i, err: err}
	}
	return out
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

// giveUp moves the failed deliveries of b to the dead-letter store, with
// their history when they were being redriven, and resolves the redriven
// letters that succeeded. The events stay in the journal too. An error
// (the store failed) leaves the batch unacknowledged.
func (s *sinkRunner) giveUp(ctx context.Context, b *messageBatch, failures []failure, attempts int, firstErr error, firstAt time.Time, reason string) error {
	now := s.clock.Now()
	letters := make([]DeadLetter, 0, len(failures))
	failed := make(map[int]bool, len(failures))
	for _, f := range failures {
		if f.index < 0 || f.index >= len(b.deliveries) || failed[f.index] {
			continue
		}
		failed[f.index] = true
		d := b.deliveries[f.index]
		l := DeadLetter{
			Sink: s.name, Route: d.Route, Seq: d.Event.Sequence, Event: d.Event, Key: d.Key, Reason: reason,
			Attempts: attempts, FirstError: firstErr.Error(), LastError: f.err.Error(), FirstAt: firstAt, LastAt: now,
		}
		if b.letters != nil {
			prev := b.letters[f.index]
			l.Attempts += prev.Attempts
			l.FirstError, l.FirstAt = prev.FirstError, prev.FirstAt
			l.Redrives = prev.Redrives + 1
		}
		letters = append(letters, l)
	}
	if len(letters) == 0 {
		// A sink reported failures at no valid index (a sink bug): treat
		// the whole batch as failed rather than lose or loop on it.
		s.log.Error("sink reported a partial failure with no valid index; dead-lettering the whole batch")
		return s.giveUp(ctx, b, allFailed(len(b.deliveries), failures[0].err), attempts, firstErr, firstAt, reason)
	}
	if err := s.storeLetters(ctx, letters); err != nil {
		return err
	}
	s.tel.sinkDeadLettered.Add(ctx, int64(len(letters)), s.attrs)
	last := failures[len(failures)-1].err
	s.log.Error("deliveries dead-lettered",
		slog.String("reason", reason), slog.Int("events", len(letters)), slog.Int("batch", len(b.deliveries)),
		slog.Int("attempts", attempts), slog.Uint64("first_seq", letters[0].Seq),
		slog.String("first_error", firstErr.Error()), slog.String("last_error", last.Error()))
	return s.resolveRedrive(ctx, b, failed)
}

// reject dead-letters events a route could not match or transform. The
// store is retried until it works or ctx ends, since the cursor must not
// pass an event that is neither delivered nor dead-lettered.
func (s *sinkRunner) reject(ctx context.Context, rejected []rejection) error {
	now := s.clock.Now()
	letters := make([]DeadLetter, len(rejected))
	for i, r := range rejected {
		letters[i] = DeadLetter{
			Sink: s.name, Route: r.delivery.Route, Seq: r.delivery.Event.Sequence, Event: r.delivery.Event, Key: r.delivery.Key,
			Reason: r.reason, FirstError: r.err.Error(), LastError: r.err.Error(), FirstAt: now, LastAt: now,
		}
	}
	b := s.retry.NewBackOff(s.clock)
	for {
		err := s.storeLetters(ctx, letters)
		if err == nil {
			break
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			wait = s.retry.Max
		}
		timer := s.clock.NewTimer(wait)
		select {
		case <-timer.C():
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
	s.tel.sinkDeadLettered.Add(ctx, int64(len(letters)), s.attrs)
	s.log.Error("events rejected by their route", slog.String("reason", rejected[0].reason),
		slog.Int("events", len(letters)), slog.Uint64("first_seq", letters[0].Seq), slog.String("error", rejected[0].err.Error()))
	return nil
}

// storeLetters writes letters to the dead-letter store.
func (s *sinkRunner) storeLetters(ctx context.Context, letters []DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	if s.deadLetters == nil {
		return nil // no store: logged and counted only
	}
	if err := s.deadLetters.PutDeadLetters(context.WithoutCancel(ctx), letters); err != nil {
		s.log.Error("dead-letter store failed; the batch will be delivered again", slog.String("error", err.Error()))
		return fmt.Errorf("store dead letters: %w", err)
	}
	return nil
}

// resolveRedrive removes from the store the redriven letters of b that
// were delivered (those not in failed).
func (s *sinkRunner) resolveRedrive(ctx context.Context, b *messageBatch, failed map[int]bool) error {
	if b.letters == nil || s.deadLetters == nil {
		return nil
	}
	var seqs []uint64
	for i, l := range b.letters {
		if !failed[i] {
			seqs = append(seqs, l.Seq)
		}
	}
	if len(seqs) == 0 {
		return nil
	}
	n, err := s.deadLetters.DeleteDeadLetters(context.WithoutCancel(ctx), DeadLetterFilter{Sink: s.name, Seqs: seqs})
	if err != nil {
		return fmt.Errorf("resolve redriven letters: %w", err)
	}
	s.log.Info("redriven dead letters delivered", slog.Int("events", n))
	return nil
}
