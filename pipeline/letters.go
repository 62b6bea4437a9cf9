package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// This file holds the live consumer's dead-letter writes. The cursor must
// never pass an event that is neither delivered nor dead-lettered, so a
// failing store is retried (with the sink's backoff, without end) until it
// works or the consumer stops.

// letterFor builds the dead letter of d, carrying over the history of
// prev when d was itself a redriven letter.
func (s *sinkRunner) letterFor(d Delivery, prev *DeadLetter, reason string, last error, h history, now time.Time) DeadLetter {
	l := DeadLetter{
		Sink: s.name, Route: d.Route, Seq: d.Event.Sequence, Event: d.Event, Key: d.Key, Reason: reason,
		Attempts: h.attempts, LastError: last.Error(), FirstAt: h.firstAt, LastAt: now,
	}
	l.FirstError = l.LastError
	if h.firstErr != nil {
		l.FirstError = h.firstErr.Error()
	}
	if prev != nil {
		l.Attempts += prev.Attempts
		l.FirstError, l.FirstAt = prev.FirstError, prev.FirstAt
		l.Redrives = prev.Redrives + 1
	}
	return l
}

// giveUp dead-letters the deliveries of b; errs[i] is the last error of
// b.deliveries[i].
func (s *sinkRunner) giveUp(ctx context.Context, b batch, errs []error, reason string, h history) error {
	now := s.clock.Now()
	letters := make([]DeadLetter, len(b.deliveries))
	for i, d := range b.deliveries {
		var prev *DeadLetter
		if b.letters != nil {
			prev = &b.letters[i]
		}
		letters[i] = s.letterFor(d, prev, reason, errs[i], h, now)
	}
	if err := s.storeLetters(ctx, letters); err != nil {
		return err
	}
	s.tel.sinkDeadLettered.Add(ctx, int64(len(letters)), s.attrs)
	s.counts.deadLettered.Add(uint64(len(letters)))
	first := letters[0].FirstError
	s.log.Error("deliveries dead-lettered",
		slog.String("reason", reason), slog.Int("events", len(letters)), slog.Int("attempts", h.attempts),
		slog.Uint64("first_seq", letters[0].Seq), slog.String("first_error", first),
		slog.String("last_error", letters[len(letters)-1].LastError))
	return nil
}

// reject dead-letters events a route could not match (under on_error:
// dead_letter) or transform.
func (s *sinkRunner) reject(ctx context.Context, rejected []rejection) error {
	now := s.clock.Now()
	letters := make([]DeadLetter, len(rejected))
	for i, r := range rejected {
		letters[i] = s.letterFor(r.delivery, nil, r.reason, r.err, history{firstAt: now}, now)
	}
	if err := s.storeLetters(ctx, letters); err != nil {
		return err
	}
	s.tel.sinkDeadLettered.Add(ctx, int64(len(letters)), s.attrs)
	s.counts.deadLettered.Add(uint64(len(letters)))
	s.log.Error("events rejected by their route", slog.String("reason", rejected[0].reason),
		slog.Int("events", len(letters)), slog.Uint64("first_seq", letters[0].Seq), slog.String("error", rejected[0].err.Error()))
	return nil
}

// storeLetters writes letters to the dead-letter store, retrying until it
// works; it returns errStopping when ctx ends first.
func (s *sinkRunner) storeLetters(ctx context.Context, letters []DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	err := s.storeRetry(ctx, "store dead letters", func() error {
		return s.journal.PutDeadLetters(context.WithoutCancel(ctx), letters)
	})
	return err
}

// resolveLetters removes the redriven letters of b, which were delivered.
func (s *sinkRunner) resolveLetters(ctx context.Context, b batch) error {
	if len(b.letters) == 0 {
		return nil
	}
	seqs := make([]uint64, len(b.letters))
	for i, l := range b.letters {
		seqs[i] = l.Seq
	}
	var n int
	err := s.storeRetry(ctx, "resolve redriven dead letters", func() error {
		var err error
		n, err = s.journal.DeleteDeadLetters(context.WithoutCancel(ctx), DeadLetterFilter{Sink: s.name, Seqs: seqs})
		return err
	})
	if err == nil {
		s.log.Info("redriven dead letters delivered", slog.Int("events", n))
	}
	return err
}

// storeRetry runs a dead-letter store operation with the sink's backoff
// and no time limit, logging each failure. A permanent error ends it.
func (s *sinkRunner) storeRetry(ctx context.Context, what string, op func() error) error {
	policy := s.retry
	policy.MaxElapsed = 0
	err := retry(ctx, s.clock, policy, func(attempt int, wait time.Duration, err error) {
		s.log.Error("dead-letter store failed; retrying", slog.String("op", what), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
	}, func(int) error {
		if err := op(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
	return err
}
