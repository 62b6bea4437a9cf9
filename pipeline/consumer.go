package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// consumer is one run of a sink's journal consumer: it reads from the
// sink's cursor, routes, throttles, delivers with retry, dead-letters and
// commits, in that order, one batch at a time (order is preserved per
// sink). It is the live outcomes of deliver.
type consumer struct {
	*sinkRunner
	// committed is the cursor position last committed.
	committed uint64
	// done holds the outcomes to signal after the next commit, while a
	// DeliveryWatch is open on the sink (see completion.go).
	done []Completion
	// records and deliveries are the arrays of the last batch, reused by
	// the next (nothing keeps a batch's slices past its iteration; sinks
	// do not retain the slice Deliver gets).
	records    []Record
	deliveries []Delivery
	// reader is the journal as a ConsumerReader (nil: Read by position);
	// redelivers is what its OpenConsumer said (consumerreader.go).
	reader     ConsumerReader
	redelivers bool
}

var _ outcomes = (*consumer)(nil)

// consume runs the sink's consumer until ctx ends (it then returns nil;
// what is not delivered is delivered after the next start) or it fails
// (a journal read or cursor commit failing). Deliver calls and commits
// run with hard, which is canceled only at the shutdown deadline, so an
// in-flight delivery finishes after ctx ends. consume may be called again
// after it returned: it starts over from the committed cursor.
func (s *sinkRunner) consume(ctx, hard context.Context) error {
	s.throttles = newSinkThrottles(s.spec.Throttle, s.allRts, s.name)
	next, err := s.startPosition(ctx)
	if err != nil {
		return stopErr(ctx, err)
	}
	c := &consumer{sinkRunner: s, committed: next}
	if err := c.openReader(ctx); err != nil {
		return stopErr(ctx, err)
	}
	hard = context.WithValue(hard, resultsKey{}, s.hub) // for SetResult
	s.next.Store(next)
	limit := ReadLimit{MaxRecords: s.batch.MaxEvents, MaxBytes: int(s.batch.MaxBytes)}
	checkRedrives := true // at start, then whenever a redrive is requested
	for {
		// Take the wake-up channel before looking, so that a request made
		// in between is not missed.
		wake := s.journal.RedriveRequested()
		if checkRedrives {
			if err := c.redrive(ctx, hard); err != nil {
				return stopErr(ctx, err)
			}
			checkRedrives = false
		}
		var due <-chan time.Time
		var timer Timer
		if at, ok := s.throttles.next(); ok {
			timer = s.clock.NewTimer(max(0, at.Sub(s.clock.Now())))
			due = timer.C()
		}
		records, err := c.readRetrying(ctx, next, limit, wake, due, c.records)
		if timer != nil {
			timer.Stop()
		}
		select {
		case <-wake: // closed: a redrive was requested
			checkRedrives = true
		default:
		}
		if err != nil {
			return stopErr(ctx, fmt.Errorf("read journal: %w", err))
		}
		b, rejected := s.routeBatch(ctx, records, c.deliveries)
		c.records, c.deliveries = records, b.deliveries
		s.taps.routed(s.name, b.deliveries, rejected)
		if len(rejected) > 0 {
			if err := s.reject(ctx, rejected); err != nil {
				return stopErr(ctx, err)
			}
			c.noteRejected(rejected)
			s.taps.rejected(s.name, rejected)
		}
		if len(records) > 0 {
			s.oldestPending.Store(records[0].AppendTime.UnixNano())
		}
		b.deliveries = s.throttle(hard, b.deliveries)
		if len(b.deliveries) > 0 {
			if err := s.deliver(ctx, hard, b, c); err != nil {
				return stopErr(ctx, err)
			}
		}
		if len(records) > 0 {
			// A ConsumerReader's batch may lie behind the last (a record
			// handed back); the cursor position never moves backwards.
			next = max(next, records[len(records)-1].Seq+1)
		}
		if err := c.commit(hard, next); err != nil {
			return stopErr(ctx, err)
		}
		s.next.Store(next)
		s.oldestPending.Store(0) // handled; the next read sets it again
		c.recycle()
	}
}

// recycle empties the batch arrays for the next iteration, dropping what
// they point to (the batch's events stay collectable).
func (c *consumer) recycle() {
	clear(c.records)
	clear(c.deliveries)
	c.records, c.deliveries = c.records[:0], c.deliveries[:0]
}

// commit moves the cursor to upTo, never past an event a throttle still
// holds, with the sink's state changes in the same transaction. Nothing
// is written when neither moved.
func (c *consumer) commit(ctx context.Context, upTo uint64) error {
	if held := c.throttles.oldestPending(); held != 0 && held < upTo {
		upTo = held
	}
	changes := c.state.TakeChanges(c.name)
	if c.reader != nil {
		return c.settle(ctx, upTo, changes)
	}
	if upTo > c.committed || len(changes) > 0 {
		upTo = max(upTo, c.committed)
		err := retry(ctx, c.clock, c.retry.withoutElapsed(), c.journalRetrying("commit cursor"), func(int) error {
			return asPermanentUnlessUnavailable(c.journal.CommitCursor(context.WithoutCancel(ctx), c.name, upTo, changes...))
		})
		if err != nil {
			return fmt.Errorf("commit cursor: %w", err)
		}
		c.committed = upTo
	}
	if len(c.done) > 0 || c.hub.active.Load() > 0 {
		c.hub.publish(c.done, c.committed)
		c.done = c.done[:0]
	}
	return nil
}

// delivered implements outcomes: redriven letters that took effect leave
// the store.
func (c *consumer) delivered(ctx context.Context, b batch) error {
	c.taps.finished(c.name, b, TapDelivered, "", nil)
	if b.letters == nil {
		c.noteDone(b, OutcomeDelivered, nil, "")
		return nil
	}
	if err := c.resolveLetters(ctx, b); err != nil {
		return err
	}
	return c.commit(ctx, c.committed) // the sink's state changes
}

// pending implements outcomes: the cursor moves up to the first delivery
// still to be retried, so what took effect is not delivered again after
// a restart.
func (c *consumer) pending(ctx context.Context, b batch) error {
	if b.letters != nil {
		return c.commit(ctx, c.committed)
	}
	return c.commit(ctx, b.deliveries[0].Event.Sequence)
}

// failed implements outcomes: the deliveries go to the dead-letter store.
func (c *consumer) failed(ctx context.Context, b batch, errs []error, reason string, h history) error {
	if err := c.giveUp(ctx, b, errs, reason, h); err != nil {
		return err
	}
	c.taps.finished(c.name, b, TapDeadLettered, reason, errs)
	if b.letters == nil {
		c.noteDone(b, OutcomeDeadLettered, errs, reason)
	}
	return nil
}

// readRetrying is readOrWake, waiting and trying again (with the sink's
// retry policy, but without its MaxElapsed: the journal holds the
// backlog) while the journal is unavailable (ErrJournalUnavailable):
// a transient journal error delays the sink, it does not end the run.
func (c *consumer) readRetrying(ctx context.Context, from uint64, limit ReadLimit, wake <-chan struct{}, due <-chan time.Time, buf []Record) ([]Record, error) {
	var records []Record
	err := retry(ctx, c.clock, c.retry.withoutElapsed(), c.journalRetrying("read journal"), func(int) error {
		var err error
		records, err = c.readOrWake(ctx, from, limit, wake, due, buf)
		return asPermanentUnlessUnavailable(err)
	})
	return records, err
}

// asPermanentUnlessUnavailable marks every journal error but
// ErrJournalUnavailable permanent, so that retry returns it at once.
func asPermanentUnlessUnavailable(err error) error {
	if err == nil || errors.Is(err, ErrJournalUnavailable) {
		return err
	}
	return Permanent(err)
}

// journalRetrying logs a journal operation that failed transiently and
// will be tried again.
func (s *sinkRunner) journalRetrying(op string) func(attempt int, wait time.Duration, err error) {
	return func(attempt int, wait time.Duration, err error) {
		s.log.Warn("journal unavailable; the sink waits and tries again",
			slog.String("op", op), slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
	}
}

// readOrWake is Journal.Read (ReadConsumer for a ConsumerReader) that
// also returns (with no records) when wake is closed or due fires. It
// reads into buf when the journal is a BufferedReader.
func (c *consumer) readOrWake(ctx context.Context, from uint64, limit ReadLimit, wake <-chan struct{}, due <-chan time.Time, buf []Record) ([]Record, error) {
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-wake:
			cancel()
		case <-due:
			cancel()
		case <-readCtx.Done():
		}
	}()
	var records []Record
	var err error
	if c.reader != nil {
		records, err = c.reader.ReadConsumer(readCtx, c.name, buf, limit)
	} else {
		records, err = readJournalInto(readCtx, c.journal, from, limit, buf)
	}
	if err != nil && ctx.Err() == nil && readCtx.Err() != nil {
		return nil, nil
	}
	return records, err
}

// readJournalInto is j.Read, into buf when j is a BufferedReader.
func readJournalInto(ctx context.Context, j Journal, from uint64, limit ReadLimit, buf []Record) ([]Record, error) {
	if br, ok := j.(BufferedReader); ok {
		return br.ReadInto(ctx, buf, from, limit)
	}
	return j.Read(ctx, from, limit)
}

// stopErr hides errors caused by the consumer stopping.
func stopErr(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, errStopping) || errors.Is(err, ErrJournalClosed) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
