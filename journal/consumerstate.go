package journal

import (
	"context"
	"fmt"
	"maps"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// bucketConsumers holds one nested bucket per consumer with the state it
// committed with its cursor (CommitCursor's state updates). Like the
// cursors, it is carried to every new segment; the newest segment's copy
// is authoritative.
var bucketConsumers = []byte("consumers")

// consumerStates is every consumer's state in memory: what is committed
// plus what is pending with the consumer's cursor. It is guarded by
// Journal.cmu, like the cursors, so that a transaction takes a cursor and
// the state committed with it together.
type consumerStates struct {
	vals map[string]map[string][]byte // consumer -> key -> value (immutable)
	// keys marks changed keys per consumer; drop marks consumers whose
	// stored state must be removed before keys are applied (DeleteCursor).
	// A consumer in either is also in Journal.dirty.
	keys map[string]map[string]struct{}
	drop map[string]struct{}
	// taken is what the committer's current transaction took, kept so
	// that redirty can restore it if the transaction fails. Owned by the
	// committer.
	takenKeys map[string]map[string]struct{}
	takenDrop map[string]struct{}
}

func newConsumerStates() consumerStates {
	return consumerStates{
		vals:      make(map[string]map[string][]byte),
		keys:      make(map[string]map[string]struct{}),
		drop:      make(map[string]struct{}),
		takenKeys: make(map[string]map[string]struct{}),
		takenDrop: make(map[string]struct{}),
	}
}

// apply records state updates of consumer in memory. Values are copied.
func (s *consumerStates) apply(consumer string, upd []pipeline.StateUpdate) {
	if len(upd) == 0 {
		return
	}
	vals := s.vals[consumer]
	if vals == nil {
		vals = make(map[string][]byte, len(upd))
		s.vals[consumer] = vals
	}
	keys := s.keys[consumer]
	if keys == nil {
		keys = make(map[string]struct{}, len(upd))
		s.keys[consumer] = keys
	}
	for _, u := range upd {
		if u.Delete {
			delete(vals, u.Key)
		} else {
			vals[u.Key] = append([]byte{}, u.Value...)
		}
		keys[u.Key] = struct{}{}
	}
	if len(vals) == 0 {
		delete(s.vals, consumer)
	}
}

// remove forgets consumer's state; its stored copy is dropped by the next
// transaction.
func (s *consumerStates) remove(consumer string) {
	delete(s.vals, consumer)
	delete(s.keys, consumer)
	s.drop[consumer] = struct{}{}
}

// take moves consumer's pending changes to the taken set and returns them.
func (s *consumerStates) take(consumer string) (keys map[string]struct{}, drop bool) {
	keys = s.keys[consumer]
	_, drop = s.drop[consumer]
	delete(s.keys, consumer)
	delete(s.drop, consumer)
	if keys != nil {
		s.takenKeys[consumer] = keys
	}
	if drop {
		s.takenDrop[consumer] = struct{}{}
	}
	return keys, drop
}

// restore marks what the failed transaction took pending again, merged
// with what changed since.
func (s *consumerStates) restore() {
	for c := range s.takenDrop {
		s.drop[c] = struct{}{}
	}
	for c, keys := range s.takenKeys {
		cur := s.keys[c]
		if cur == nil {
			s.keys[c] = keys
			continue
		}
		maps.Copy(cur, keys)
	}
	s.clearTaken()
}

func (s *consumerStates) clearTaken() {
	clear(s.takenKeys)
	clear(s.takenDrop)
}

// stateWrite is one consumer's state change taken for a transaction.
type stateWrite struct {
	drop bool              // remove the stored bucket first
	all  bool              // write every key of vals (after drop, or in a new segment)
	keys map[string][]byte // changed keys; a nil value deletes the key
}

// takeStateWrite returns consumer's pending state change for a
// transaction; all writes its whole state (a new segment). Called with
// cmu held.
func (j *Journal) takeStateWrite(consumer string, all bool) stateWrite {
	s := &j.cstate
	keys, drop := s.take(consumer)
	vals := s.vals[consumer]
	w := stateWrite{drop: drop && !all, all: all || drop}
	if w.all {
		w.keys = make(map[string][]byte, len(vals))
		maps.Copy(w.keys, vals)
		return w
	}
	if len(keys) == 0 {
		return w
	}
	w.keys = make(map[string][]byte, len(keys))
	for k := range keys {
		w.keys[k] = vals[k] // nil when deleted
	}
	return w
}

// write applies w for consumer to the consumers bucket of tx.
func (w stateWrite) write(tx *bolt.Tx, consumer string) error {
	if !w.drop && len(w.keys) == 0 {
		return nil
	}
	root, err := tx.CreateBucketIfNotExists(bucketConsumers)
	if err != nil {
		return err
	}
	name := []byte(consumer)
	if w.drop && root.Bucket(name) != nil {
		if err := root.DeleteBucket(name); err != nil {
			return err
		}
	}
	if len(w.keys) == 0 {
		return nil
	}
	b, err := root.CreateBucketIfNotExists(name)
	if err != nil {
		return err
	}
	for k, v := range w.keys {
		if v == nil {
			err = b.Delete([]byte(k))
		} else {
			err = b.Put([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteState removes consumer's stored state from tx.
func deleteState(tx *bolt.Tx, consumer string) error {
	root := tx.Bucket(bucketConsumers)
	if root == nil || root.Bucket([]byte(consumer)) == nil {
		return nil
	}
	return root.DeleteBucket([]byte(consumer))
}

// loadConsumerStates reads every consumer's state from the active
// segment (at Open).
func (j *Journal) loadConsumerStates() error {
	j.cstate = newConsumerStates()
	return j.c.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketConsumers)
		if root == nil {
			return nil
		}
		return root.ForEachBucket(func(name []byte) error {
			vals := make(map[string][]byte)
			err := root.Bucket(name).ForEach(func(k, v []byte) error {
				if v != nil {
					vals[string(k)] = append([]byte{}, v...)
				}
				return nil
			})
			if len(vals) > 0 {
				j.cstate.vals[string(name)] = vals
			}
			return err
		})
	})
}

// validConsumerState checks state updates for CommitCursor (Source is
// ignored).
func validConsumerState(upd []pipeline.StateUpdate) error {
	for i, u := range upd {
		switch {
		case u.Key == "" || len(u.Key) > bolt.MaxKeySize:
			return fmt.Errorf("%w: state update %d: key must be 1..%d bytes", ErrInvalidCursor, i, bolt.MaxKeySize)
		case !u.Delete && len(u.Value) > bolt.MaxValueSize:
			return fmt.Errorf("%w: state update %d: value too large", ErrInvalidCursor, i)
		}
	}
	return nil
}

// ConsumerState returns the state committed with consumer's cursor,
// including commits not yet durable (they become durable together with
// that cursor). The map and values are copies; an unknown consumer has an
// empty map.
func (j *Journal) ConsumerState(_ context.Context, consumer string) (map[string][]byte, error) {
	if err := validConsumer("consumer state", consumer); err != nil {
		return nil, err
	}
	if j.isClosed() {
		return nil, fmt.Errorf("consumer state: %w", pipeline.ErrJournalClosed)
	}
	j.cmu.Lock()
	defer j.cmu.Unlock()
	vals := j.cstate.vals[consumer]
	out := make(map[string][]byte, len(vals))
	for k, v := range vals {
		out[k] = append([]byte{}, v...)
	}
	return out, nil
}

// sync makes every cursor and state change made before it durable: it
// hands the committer an empty request, whose transaction writes the
// dirty cursors, and waits for it. If ctx ends first the changes stay
// pending (durable with the next transaction) and ctx.Err() is returned.
func (j *Journal) sync(ctx context.Context) error {
	r := getRequest()
	if !j.enqueue(r) {
		putRequest(r)
		return pipeline.ErrJournalClosed
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			return ctx.Err()
		}
		<-r.done
	}
	err := r.err
	putRequest(r)
	return err
}
