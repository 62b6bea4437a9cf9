package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// cursorWrite is one cursor change taken for a transaction.
type cursorWrite struct {
	name  string
	next  uint64
	del   bool
	state stateWrite
}

func validConsumer(op, consumer string) error {
	if consumer == "" || len(consumer) > bolt.MaxKeySize {
		return fmt.Errorf("%s: %w: consumer name must be 1..%d bytes", op, ErrInvalidCursor, bolt.MaxKeySize)
	}
	return nil
}

// Cursor returns the next sequence consumer should read: one after its last
// committed position, or the oldest retained record if it never committed
// (never less than the oldest retained record). Calling Cursor registers
// the consumer, so retention keeps what it has not read; the registration
// is durable with the next transaction. A read-only journal reports stored
// cursors without registering.
func (j *Journal) Cursor(_ context.Context, consumer string) (uint64, error) {
	if err := validConsumer("cursor", consumer); err != nil {
		return 0, err
	}
	if j.isClosed() {
		return 0, fmt.Errorf("cursor: %w", pipeline.ErrJournalClosed)
	}
	first := j.head.Load().first()
	j.cmu.Lock()
	defer j.cmu.Unlock()
	if next, ok := j.cursors[consumer]; ok {
		return max(next, first), nil
	}
	if !j.opts.ReadOnly {
		j.cursors[consumer] = first
		j.dirty[consumer] = struct{}{}
	}
	return first, nil
}

// CommitCursor records in memory that consumer has handled every record
// before next, and applies state (the consumer's own keys; Source is
// ignored) with it. The cursor and the state become durable together, in
// the next append transaction, a flush after Options.CursorFlushInterval,
// or Close; a commit never costs an fsync of its own. A commit behind the
// current position does not move the cursor (cursors never move backwards)
// but still applies its state; one beyond the next sequence to be appended
// returns ErrInvalidCursor. An unknown consumer is registered.
func (j *Journal) CommitCursor(_ context.Context, consumer string, next uint64, state ...pipeline.StateUpdate) error {
	if err := j.checkCursorWrite("commit cursor", consumer); err != nil {
		return err
	}
	if err := validConsumerState(state); err != nil {
		return fmt.Errorf("commit cursor %q: %w", consumer, err)
	}
	if last := j.head.Load().last; next > last+1 {
		return fmt.Errorf("commit cursor %q: %w: next %d is beyond the head %d", consumer, ErrInvalidCursor, next, last)
	}
	next = max(next, 1)
	j.cmu.Lock()
	if cur, ok := j.cursors[consumer]; !ok || next > cur {
		j.cursors[consumer] = next
		j.dirty[consumer] = struct{}{}
	}
	if len(state) > 0 {
		if _, ok := j.cursors[consumer]; !ok {
			j.cursors[consumer] = next
		}
		j.cstate.apply(consumer, state)
		j.dirty[consumer] = struct{}{}
	}
	j.cmu.Unlock()
	return nil
}

// SetCursor moves consumer's cursor to next, backwards or forwards,
// keeping its state, and returns once that is durable (one transaction of
// its own). A next below the oldest retained record reads from the oldest;
// one beyond the next sequence to be appended returns ErrInvalidCursor. An
// unknown consumer is registered at next.
func (j *Journal) SetCursor(ctx context.Context, consumer string, next uint64) error {
	if err := j.checkCursorWrite("set cursor", consumer); err != nil {
		return err
	}
	if last := j.head.Load().last; next > last+1 {
		return fmt.Errorf("set cursor %q: %w: next %d is beyond the head %d", consumer, ErrInvalidCursor, next, last)
	}
	j.cmu.Lock()
	j.cursors[consumer] = max(next, 1)
	j.dirty[consumer] = struct{}{}
	j.cmu.Unlock()
	if err := j.sync(ctx); err != nil {
		return fmt.Errorf("set cursor %q: %w", consumer, err)
	}
	return nil
}

// DeleteCursor unregisters consumer and removes its state, so retention no
// longer keeps records for it, and returns once that is durable (one
// transaction of its own). Deleting an unknown consumer is not an error.
func (j *Journal) DeleteCursor(ctx context.Context, consumer string) error {
	if err := j.checkCursorWrite("delete cursor", consumer); err != nil {
		return err
	}
	j.cmu.Lock()
	_, known := j.cursors[consumer]
	if known {
		delete(j.cursors, consumer)
		j.cstate.remove(consumer)
		j.dirty[consumer] = struct{}{}
	}
	j.cmu.Unlock()
	if !known {
		return nil
	}
	if err := j.sync(ctx); err != nil {
		return fmt.Errorf("delete cursor %q: %w", consumer, err)
	}
	return nil
}

// checkCursorWrite refuses a cursor change on an invalid name, a
// read-only journal (ErrReadOnly) or a closed one.
func (j *Journal) checkCursorWrite(op, consumer string) error {
	if err := validConsumer(op, consumer); err != nil {
		return err
	}
	if j.opts.ReadOnly {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	if j.isClosed() {
		return fmt.Errorf("%s: %w", op, pipeline.ErrJournalClosed)
	}
	return nil
}

// minCursor returns the smallest registered cursor, or MaxUint64.
func (j *Journal) minCursor() uint64 {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	m := uint64(math.MaxUint64)
	for _, v := range j.cursors {
		m = min(m, v)
	}
	return m
}

func (j *Journal) cursorsDirty() bool {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	return len(j.dirty) > 0
}

// writeCursors takes the dirty cursors and the consumer state changed with
// them (every cursor and all state if all, for a new segment) and writes
// them to tx. What was taken is kept for redirty.
func (j *Journal) writeCursors(tx *bolt.Tx, all bool) error {
	w := j.c.writes[:0]
	j.cmu.Lock()
	j.cstate.clearTaken()
	if all {
		for name, next := range j.cursors {
			w = append(w, cursorWrite{name: name, next: next, state: j.takeStateWrite(name, true)})
		}
		// Pending deletes are written too (a no-op in a new segment), so
		// that redirty restores them if this transaction fails.
		for name := range j.dirty {
			if _, ok := j.cursors[name]; !ok {
				j.cstate.take(name)
				w = append(w, cursorWrite{name: name, del: true})
			}
		}
	} else {
		for name := range j.dirty {
			next, ok := j.cursors[name]
			cw := cursorWrite{name: name, next: next, del: !ok}
			if ok {
				cw.state = j.takeStateWrite(name, false)
			} else {
				j.cstate.take(name)
			}
			w = append(w, cw)
		}
	}
	clear(j.dirty)
	j.cmu.Unlock()
	j.c.writes = w
	if len(w) == 0 {
		return nil
	}
	b := tx.Bucket(bucketCursors)
	for _, cw := range w {
		var err error
		if cw.del {
			err = b.Delete([]byte(cw.name))
			if err == nil {
				err = deleteState(tx, cw.name)
			}
		} else {
			v := make([]byte, 8)
			binary.BigEndian.PutUint64(v, cw.next)
			err = b.Put([]byte(cw.name), v)
			if err == nil {
				err = cw.state.write(tx, cw.name)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// redirty marks the cursors and state of a failed transaction dirty
// again.
func (j *Journal) redirty() {
	j.cmu.Lock()
	for _, cw := range j.c.writes {
		j.dirty[cw.name] = struct{}{}
	}
	j.cstate.restore()
	j.cmu.Unlock()
	j.c.writes = j.c.writes[:0]
}

// SourceState returns the state source stored through AppendBatch.State as
// of the last durable append. The map and values are copies.
func (j *Journal) SourceState(ctx context.Context, source string) (map[string][]byte, error) {
	for {
		if j.isClosed() {
			return nil, fmt.Errorf("source state: %w", pipeline.ErrJournalClosed)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h := j.head.Load()
		active := h.segs[len(h.segs)-1]
		out := make(map[string][]byte)
		err := active.view(func(tx *bolt.Tx) error {
			sb := tx.Bucket(bucketState)
			if sb == nil {
				return nil
			}
			b := sb.Bucket([]byte(source))
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				out[string(k)] = append([]byte(nil), v...)
				return nil
			})
		})
		if errors.Is(err, errSegmentGone) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("source state: %w", err)
		}
		return out, nil
	}
}
