package pipeline

// This file is the only one that touches watermill types. The Router runs
// one handler per sink; the handlers subscribe to a journalSubscriber whose
// topic is the sink's name. A message carries a batch of journal records
// (not one event: the Router costs ~13µs per message). Ack commits the
// sink's cursor past the batch; Nack leaves it, so the batch is delivered
// again.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// batchKey is the context key under which a message carries its batch.
type batchKey struct{}

// newRouter builds the Router with one no-publisher handler per sink.
func (p *Pipeline) newRouter(sub *journalSubscriber, stopping <-chan struct{}) (*message.Router, error) {
	closeTimeout := p.spec.ShutdownTimeout
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: closeTimeout},
		watermill.NewSlogLoggerWithLevelMapping(p.set.Logger.With(slog.String("component", "router")),
			map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}))
	if err != nil {
		return nil, fmt.Errorf("new router: %w", err)
	}
	for _, s := range p.sinks {
		router.AddConsumerHandler("sink."+s.name, s.name, sub, func(msg *message.Message) error {
			b, ok := msg.Context().Value(batchKey{}).(*messageBatch)
			if !ok {
				return fmt.Errorf("message %s carries no batch", msg.UUID)
			}
			return s.deliver(msg.Context(), stopping, b)
		})
	}
	return router, nil
}

// journalSubscriber adapts the Journal to watermill's Subscriber.
//
// Each subscription reads the sink's cursor, then loops: Read a bounded
// batch (blocking without polling when caught up), select the sink's
// deliveries, send them as one message, and wait for its Ack before the
// next (order is preserved per sink). Records no route sends to the sink
// just move the cursor.
type journalSubscriber struct {
	journal  Journal
	sinks    map[string]*sinkRunner
	log      *slog.Logger
	delivery context.Context // parent of message contexts; canceled at the hard deadline

	wg        sync.WaitGroup
	closed    chan struct{}
	closeOnce sync.Once
	// failed receives the error of a consumer that stopped on its own
	// (a journal read or cursor commit failing), so the runner can stop
	// the pipeline instead of leaving that sink silently stalled.
	failed chan error
}

var _ message.Subscriber = (*journalSubscriber)(nil)

func newJournalSubscriber(delivery context.Context, j Journal, sinks []*sinkRunner, log *slog.Logger) *journalSubscriber {
	s := &journalSubscriber{journal: j, sinks: make(map[string]*sinkRunner, len(sinks)), log: log, delivery: delivery,
		closed: make(chan struct{}), failed: make(chan error, len(sinks))}
	for _, r := range sinks {
		s.sinks[r.name] = r
	}
	return s
}

// Subscribe implements message.Subscriber. The subscription ends when ctx
// is canceled or the subscriber is closed; an in-flight message is still
// waited for, so an Ack that arrives during shutdown is committed.
func (s *journalSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	sink, ok := s.sinks[topic]
	if !ok {
		return nil, fmt.Errorf("subscribe: no sink %q", topic)
	}
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		if err := s.consume(ctx, sink, out); err != nil {
			s.log.Error("consumer stopped", slog.String("sink", sink.name), slog.String("error", err.Error()))
			s.failed <- fmt.Errorf("sink %s: %w", sink.name, err) // buffered: one per sink
		}
	}()
	return out, nil
}

func (s *journalSubscriber) consume(ctx context.Context, sink *sinkRunner, out chan<- *message.Message) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the subscriber's Close also ends the subscription
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	next, err := s.journal.Cursor(ctx, sink.name)
	if err != nil {
		return stopErr(ctx, fmt.Errorf("read cursor: %w", err))
	}
	sink.next.Store(next)
	limit := ReadLimit{MaxRecords: sink.batch.MaxEvents, MaxBytes: int(sink.batch.MaxBytes)}
	committed := next
	checkRedrives := true // at start, then whenever a redrive is requested
	for {
		var wake <-chan struct{}
		if sink.deadLetters != nil {
			// Take the wake-up channel before looking, so that a request
			// made in between is not missed.
			wake = sink.deadLetters.RedriveRequested()
			if checkRedrives {
				if err := s.redrive(ctx, sink, out); err != nil {
					return stopErr(ctx, err)
				}
				checkRedrives = false
			}
		}
		var due <-chan time.Time
		var timer Timer
		if at, ok := sink.throttles.next(); ok {
			timer = sink.clock.NewTimer(max(0, at.Sub(sink.clock.Now())))
			due = timer.C()
		}
		records, err := s.readOrWake(ctx, next, limit, wake, due)
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
		b, rejected := sink.routes.batch(records)
		if len(rejected) > 0 {
			if err := sink.reject(ctx, rejected); err != nil {
				return stopErr(ctx, err)
			}
		}
		if len(records) > 0 {
			sink.oldestPending.Store(records[0].AppendTime.UnixNano())
		}
		b.deliveries = sink.throttle(ctx, b.deliveries)
		if len(b.deliveries) > 0 {
			acked, err := s.send(ctx, out, sink.name, b)
			if err != nil || !acked {
				return stopErr(ctx, err)
			}
		}
		if len(records) > 0 {
			next = records[len(records)-1].Seq + 1
		}
		// The cursor never passes an event the throttle still holds.
		commit := next
		if held := sink.throttles.oldestPending(); held != 0 && held < commit {
			commit = held
		}
		if commit > committed {
			if err := s.journal.CommitCursor(context.WithoutCancel(ctx), sink.name, commit); err != nil {
				return stopErr(ctx, fmt.Errorf("commit cursor: %w", err))
			}
			committed = commit
		}
		sink.next.Store(next)
		sink.oldestPending.Store(0) // handled; the next read sets it again
	}
}

// readOrWake is Journal.Read that also returns (with no records) when wake
// is closed or due fires.
func (s *journalSubscriber) readOrWake(ctx context.Context, from uint64, limit ReadLimit, wake <-chan struct{}, due <-chan time.Time) ([]Record, error) {
	if wake == nil && due == nil {
		return s.journal.Read(ctx, from, limit)
	}
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
	records, err := s.journal.Read(readCtx, from, limit)
	if err != nil && ctx.Err() == nil && readCtx.Err() != nil {
		return nil, nil
	}
	return records, err
}

// redrive delivers the sink's dead letters that were marked for redrive,
// a bounded batch at a time, through the same handler as journal records.
func (s *journalSubscriber) redrive(ctx context.Context, sink *sinkRunner, out chan<- *message.Message) error {
	for {
		var letters []DeadLetter
		errFull := errors.New("batch full")
		err := sink.deadLetters.DeadLetters(ctx, DeadLetterFilter{Sink: sink.name, OnlyRedriveRequested: true}, func(l DeadLetter) error {
			letters = append(letters, l)
			if len(letters) >= sink.batch.MaxEvents {
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
		b, err := s.redriveBatch(ctx, sink, letters)
		if err != nil {
			return err
		}
		if len(b.deliveries) == 0 {
			continue
		}
		s.log.Info("redriving dead letters", slog.String("sink", sink.name), slog.Int("events", len(letters)))
		acked, err := s.send(ctx, out, sink.name, b)
		if err != nil || !acked {
			return err
		}
	}
}

// send offers deliveries as one message until it is acked. It returns
// false when the subscription ends first; a Nack during shutdown ends it,
// a Nack otherwise re-sends after a pause.
func (s *journalSubscriber) send(ctx context.Context, out chan<- *message.Message, sink string, b *messageBatch) (bool, error) {
	first, last := b.deliveries[0].Event.Sequence, b.deliveries[len(b.deliveries)-1].Event.Sequence
	uuid := sink + ":" + strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(last, 10)
	if b.letters != nil {
		uuid += ":redrive"
	}
	for {
		msg := message.NewMessageWithContext(context.WithValue(s.delivery, batchKey{}, b), uuid, nil)
		select {
		case out <- msg:
		case <-ctx.Done():
			return false, nil
		}
		select {
		case <-msg.Acked():
			return true, nil
		case <-msg.Nacked():
			if ctx.Err() != nil || s.delivery.Err() != nil {
				return false, nil
			}
			t := time.NewTimer(time.Second)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return false, nil
			}
		case <-s.delivery.Done():
			return false, nil
		}
	}
}

// redriveBatch turns letters into a batch to deliver. A letter whose
// delivery failed carries the event as its route delivered it and goes
// as is. A letter the route itself rejected (match or transform failed)
// goes through the sink's routes again, so that a fixed configuration
// applies: still rejected, it returns to the store with its history; no
// longer selected by any route, it is removed.
func (s *journalSubscriber) redriveBatch(ctx context.Context, sink *sinkRunner, letters []DeadLetter) (*messageBatch, error) {
	b := &messageBatch{}
	var again []DeadLetter
	var dropped []uint64
	for _, l := range letters {
		if l.Reason != ReasonMatchFailed && l.Reason != ReasonTransformFailed {
			b.deliveries = append(b.deliveries, Delivery{Event: l.Event, Key: l.Key, Route: l.Route})
			b.letters = append(b.letters, l)
			continue
		}
		routed, rejected := sink.routes.batch([]Record{{Event: l.Event, Seq: l.Seq}})
		switch {
		case len(rejected) > 0:
			l.Attempts++
			l.Redrives++
			l.LastError, l.LastAt, l.RedriveRequested = rejected[0].err.Error(), sink.clock.Now(), false
			again = append(again, l)
		case len(routed.deliveries) == 0:
			dropped = append(dropped, l.Seq)
		default:
			b.deliveries = append(b.deliveries, routed.deliveries[0])
			b.letters = append(b.letters, l)
		}
	}
	if err := sink.storeLetters(ctx, again); err != nil {
		return nil, err
	}
	if len(dropped) > 0 {
		if _, err := sink.deadLetters.DeleteDeadLetters(context.WithoutCancel(ctx), DeadLetterFilter{Sink: sink.name, Seqs: dropped}); err != nil {
			return nil, fmt.Errorf("remove dead letters no route selects: %w", err)
		}
		s.log.Info("redriven dead letters no longer selected by any route were removed", slog.String("sink", sink.name), slog.Int("events", len(dropped)))
	}
	if len(again) > 0 {
		s.log.Warn("redriven dead letters still rejected by their route", slog.String("sink", sink.name), slog.Int("events", len(again)),
			slog.String("error", again[0].LastError))
	}
	return b, nil
}

// Close implements message.Subscriber: it ends every subscription and
// waits for their goroutines. It is idempotent.
func (s *journalSubscriber) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.wg.Wait()
	return nil
}

// stopErr hides errors caused by the subscription ending.
func stopErr(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, ErrJournalClosed) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
