package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
)

// This file is the live consumer's side of a ConsumerReader journal
// (consumerreader.go): opening the consumer, settling what was handed out
// and handing transient failures back instead of retrying in process.

// openReader opens the sink's consumer when the journal is a
// ConsumerReader, retrying while the journal is unavailable.
func (c *consumer) openReader(ctx context.Context) error {
	cr, ok := c.journal.(ConsumerReader)
	if !ok {
		return nil
	}
	err := retry(ctx, c.clock, c.retry.withoutElapsed(), c.journalRetrying("open consumer"), func(int) error {
		var err error
		c.redelivers, err = cr.OpenConsumer(ctx, c.name, c.retry)
		return asPermanentUnlessUnavailable(err)
	})
	if err != nil {
		return fmt.Errorf("open consumer: %w", err)
	}
	c.reader = cr
	return nil
}

// settle is commit for a ConsumerReader: CommitCursor settles what was
// handed out below upTo, so it is called whenever the consumer commits,
// even when upTo is behind the position (a record handed back came
// again) and nothing changed.
func (c *consumer) settle(ctx context.Context, upTo uint64, changes []StateUpdate) error {
	err := retry(ctx, c.clock, c.retry.withoutElapsed(), c.journalRetrying("commit cursor"), func(int) error {
		return asPermanentUnlessUnavailable(c.journal.CommitCursor(context.WithoutCancel(ctx), c.name, upTo, changes...))
	})
	if err != nil {
		return fmt.Errorf("commit cursor: %w", err)
	}
	c.committed = max(c.committed, upTo)
	if len(c.done) > 0 || c.hub.active.Load() > 0 {
		c.hub.publish(c.done, c.committed)
		c.done = c.done[:0]
	}
	return nil
}

// handBack implements outcomes: when the journal redelivers, the
// deliveries of b that failed transiently are handed back to it
// (Redeliver, after the retry policy's delay for the record's delivery
// count) and those on their last allowed delivery are dead-lettered as
// retries exhausted. It reports false (retry in process) for redriven
// letters and for a journal that keeps order.
func (c *consumer) handBack(ctx context.Context, b batch, errs []error, h history) (bool, error) {
	if !c.redelivers || b.letters != nil {
		return false, nil
	}
	limit := c.retry.Deliveries()
	var exhausted []int
	var again []uint64
	attempts := 0
	for i, d := range b.deliveries {
		n := c.deliveryCount(d.Event.Sequence)
		attempts = max(attempts, n)
		if limit > 0 && n >= limit {
			exhausted = append(exhausted, i)
			continue
		}
		if seq := d.Event.Sequence; !slices.Contains(again, seq) {
			again = append(again, seq)
			delay := c.retry.jittered(n)
			if err := c.reader.Redeliver(ctx, c.name, seq, delay); err != nil {
				// Not handed back: it stays handed out and the journal
				// gives it again once this process stops or it times out.
				return true, fmt.Errorf("hand back seq %d: %w", seq, err)
			}
		}
	}
	c.tel.sinkRetries.Add(ctx, int64(len(again)), c.attrs)
	c.counts.retries.Add(uint64(len(again)))
	if len(again) > 0 {
		c.log.Warn("delivery failed; handed back to the journal to be delivered again", slog.Int("events", len(again)),
			slog.Int("delivery", attempts), slog.Uint64("first_seq", again[0]), slog.String("error", errs[0].Error()))
	}
	if len(exhausted) == 0 {
		return true, nil
	}
	h.attempts = attempts
	return true, c.failed(ctx, b.pick(exhausted), pick(errs, exhausted), ReasonRetriesExhausted, h)
}

// deliveryCount returns the Deliveries of the batch's record seq (the
// batch is sorted by Seq); 1 when it is not found.
func (c *consumer) deliveryCount(seq uint64) int {
	i, found := slices.BinarySearchFunc(c.records, seq, func(r Record, s uint64) int {
		switch {
		case r.Seq < s:
			return -1
		case r.Seq > s:
			return 1
		}
		return 0
	})
	if !found || c.records[i].Deliveries < 1 {
		return 1
	}
	return c.records[i].Deliveries
}
