package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// redrive delivers the sink's dead letters that were marked for redrive, a
// bounded batch at a time, through the same deliver as journal records.
// Letters delivered leave the store; letters that fail again go back with
// their history.
func (c *consumer) redrive(ctx, hard context.Context) error {
	errFull := errors.New("batch full")
	for {
		var letters []DeadLetter
		err := c.journal.DeadLetters(ctx, DeadLetterFilter{Sink: c.name, OnlyRedriveRequested: true}, func(l DeadLetter) error {
			letters = append(letters, l)
			if len(letters) >= c.batch.MaxEvents {
				return errFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errFull) {
			return fmt.Errorf("list dead letters: %w", err)
		}
		if len(letters) == 0 {
			return nil
		}
		b, err := c.redriveBatch(ctx, letters)
		if err != nil {
			return err
		}
		if len(b.deliveries) == 0 {
			continue
		}
		c.log.Info("redriving dead letters", slog.Int("events", len(b.deliveries)))
		if err := c.deliver(ctx, hard, b, c); err != nil {
			return err
		}
	}
}

// redriveBatch turns letters into a batch to deliver. A letter whose
// delivery failed carries the event as its route delivered it and goes as
// is. A letter the route itself rejected (match or transform failed) goes
// through the sink's routes again, so that a fixed configuration applies:
// still rejected, it returns to the store with its history; no longer
// selected by any route, it is removed.
func (c *consumer) redriveBatch(ctx context.Context, letters []DeadLetter) (batch, error) {
	var b batch
	b.letters = []DeadLetter{}
	var again []DeadLetter
	var dropped []uint64
	for _, l := range letters {
		if l.Reason != ReasonMatchFailed && l.Reason != ReasonTransformFailed {
			b.deliveries = append(b.deliveries, Delivery{Event: l.Event, Key: l.Key, Route: l.Route})
			b.letters = append(b.letters, l)
			continue
		}
		routed, rejected := c.routes.batch([]Record{{Event: l.Event, Seq: l.Seq}}, nil)
		switch {
		case len(rejected) > 0:
			l.Attempts++
			l.Redrives++
			l.LastError, l.LastAt, l.RedriveRequested = rejected[0].err.Error(), c.clock.Now(), false
			again = append(again, l)
		case len(routed.deliveries) == 0:
			dropped = append(dropped, l.Seq)
		default:
			b.deliveries = append(b.deliveries, routed.deliveries[0])
			b.letters = append(b.letters, l)
		}
	}
	if err := c.storeLetters(ctx, again); err != nil {
		return b, err
	}
	if len(dropped) > 0 {
		err := c.storeRetry(ctx, "remove dead letters no route selects", func() error {
			_, err := c.journal.DeleteDeadLetters(context.WithoutCancel(ctx), DeadLetterFilter{Sink: c.name, Seqs: dropped})
			return err
		})
		if err != nil {
			return b, err
		}
		c.log.Info("redriven dead letters no longer selected by any route were removed", slog.Int("events", len(dropped)))
	}
	if len(again) > 0 {
		c.log.Warn("redriven dead letters still rejected by their route", slog.Int("events", len(again)),
			slog.String("error", again[0].LastError))
	}
	return b, nil
}
