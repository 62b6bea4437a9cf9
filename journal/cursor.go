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
	name string
	next uint64
	del  bool
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
// before next. The commit becomes durable with the next append
// transaction, a flush after Options.CursorFlushInterval, or Close; it
// never costs an fsync of its own. A commit behind the current position is
// ignored (cursors never move backwards); one beyond the next sequence to
// be appended returns ErrInvalidCursor. An unknown consumer is registered.
func (j *Journal) CommitCursor(_ context.Context, consumer string, next uint64, state ...pipeline.StateUpdate) error {
	if len(state) > 0 {
		return fmt.Errorf("commit cursor %q: consumer state: %w", consumer, errors.ErrUnsupported) // replaced by the consumer-state store
	}
	if err := validConsumer("commit cursor", consumer); err != nil {
		return err
	}
	if j.opts.ReadOnly {
		return fmt.Errorf("commit cursor: %w", ErrReadOnly)
	}
	if j.isClosed() {
		return fmt.Errorf("commit cursor: %w", pipeline.ErrJournalClosed)
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
	j.cmu.Unlock()
	return nil
}

// DeleteCursor unregisters consumer, so retention no longer keeps records
// for it. It is durable like CommitCursor. Deleting an unknown consumer is
// not an error.
func (j *Journal) DeleteCursor(_ context.Context, consumer string) error {
	if err := validConsumer("delete cursor", consumer); err != nil {
		return err
	}
	if j.opts.ReadOnly {
		return fmt.Errorf("delete cursor: %w", ErrReadOnly)
	}
	if j.isClosed() {
		return fmt.Errorf("delete cursor: %w", pipeline.ErrJournalClosed)
	}
	j.cmu.Lock()
	if _, ok := j.cursors[consumer]; ok {
		delete(j.cursors, consumer)
		j.dirty[consumer] = struct{}{}
	}
	j.cmu.Unlock()
	return nil
}

// ConsumerState implements pipeline.Journal.
func (j *Journal) ConsumerState(_ context.Context, consumer string) (map[string][]byte, error) {
	return nil, fmt.Errorf("consumer state %q: %w", consumer, errors.ErrUnsupported) // replaced by the consumer-state store
}

// SetCursor implements pipeline.Journal.
func (j *Journal) SetCursor(_ context.Context, consumer string, _ uint64) error {
	return fmt.Errorf("set cursor %q: %w", consumer, errors.ErrUnsupported) // replaced by the consumer-state store
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

// writeCursors takes the dirty cursors (every cursor if all) and writes
// them to tx. The taken names are kept in j.c.writes for redirty.
func (j *Journal) writeCursors(tx *bolt.Tx, all bool) error {
	w := j.c.writes[:0]
	j.cmu.Lock()
	if all {
		for name, next := range j.cursors {
			w = append(w, cursorWrite{name: name, next: next})
		}
		// Pending deletes are written too (a no-op in a new segment), so
		// that redirty restores them if this transaction fails.
		for name := range j.dirty {
			if _, ok := j.cursors[name]; !ok {
				w = append(w, cursorWrite{name: name, del: true})
			}
		}
	} else {
		for name := range j.dirty {
			next, ok := j.cursors[name]
			w = append(w, cursorWrite{name: name, next: next, del: !ok})
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
		} else {
			v := make([]byte, 8)
			binary.BigEndian.PutUint64(v, cw.next)
			err = b.Put([]byte(cw.name), v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// redirty marks the cursors of a failed transaction dirty again.
func (j *Journal) redirty() {
	j.cmu.Lock()
	for _, cw := range j.c.writes {
		j.dirty[cw.name] = struct{}{}
	}
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
