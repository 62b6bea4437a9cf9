package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// deadLettersFileName is the dead-letter store inside a journal directory.
// It is a bbolt file of its own, so that dead letters never take part in
// segment rotation or retention.
const deadLettersFileName = "deadletters.db"

// deadLetterVersion is the "v" field of every stored letter.
const deadLetterVersion = 1

// deadLetterPage bounds how many letters (and about how many bytes) one
// read transaction of a walk decodes before the callbacks run.
const (
	deadLetterPage      = 64
	deadLetterPageBytes = 1 << 20
)

var deadLettersBucket = []byte("deadletters")

var _ pipeline.DeadLetterStore = (*Journal)(nil)

// PutDeadLetters implements pipeline.DeadLetterStore: one fsync'd
// transaction stores every letter, replacing those with the same (Sink,
// Seq). It returns ErrReadOnly on a read-only journal.
func (j *Journal) PutDeadLetters(ctx context.Context, letters []pipeline.DeadLetter) error {
	if j.isClosed() {
		return pipeline.ErrJournalClosed
	}
	return j.dl.put(ctx, letters)
}

// DeadLetters implements pipeline.DeadLetterStore. The walk reads a page of
// letters per read transaction and calls fn outside it, so fn may take its
// time and may call the store; it is not a snapshot: letters stored or
// removed during the walk may or may not be seen.
func (j *Journal) DeadLetters(ctx context.Context, f pipeline.DeadLetterFilter, fn func(pipeline.DeadLetter) error) error {
	if j.isClosed() {
		return pipeline.ErrJournalClosed
	}
	return j.dl.walk(ctx, f, fn)
}

// DeleteDeadLetters implements pipeline.DeadLetterStore. It returns
// ErrReadOnly on a read-only journal.
func (j *Journal) DeleteDeadLetters(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	if j.isClosed() {
		return 0, pipeline.ErrJournalClosed
	}
	return j.dl.delete(ctx, f)
}

// RequestRedrive implements pipeline.DeadLetterStore: it marks the letters
// f matches (counting those already marked) and, if there were any, wakes
// every RedriveRequested waiter after the marks are durable. It returns
// ErrReadOnly on a read-only journal.
func (j *Journal) RequestRedrive(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	if j.isClosed() {
		return 0, pipeline.ErrJournalClosed
	}
	return j.dl.requestRedrive(ctx, f)
}

// RedriveRequested implements pipeline.DeadLetterStore.
func (j *Journal) RedriveRequested() <-chan struct{} {
	return j.dl.redriveRequested()
}

// deadLetterStore keeps dead letters in dir/deadletters.db, keyed by sink
// name, a zero byte and the 8-byte big-endian sequence, so that bytewise
// key order is (sink, seq) order. Values are JSON (storedLetter): dead
// letters are rare, and JSON keeps the format easy to evolve.
type deadLetterStore struct {
	path     string
	readOnly bool

	// mu guards db and closed: transactions hold it shared, close
	// exclusively, so close waits for running transactions.
	mu     sync.RWMutex
	db     *bolt.DB // nil when read-only and the file does not exist
	closed bool

	// fault is the state of a handle whose commit failed
	// (deadletters_fault.go).
	fault deadLetterFault

	// wake is closed, and replaced, by each redrive request that marked a
	// letter.
	wakeMu sync.Mutex
	wake   chan struct{}
}

// openDeadLetters opens (creating it unless readOnly) the dead-letter store
// of the journal in dir. A read-only open of a journal that never stored a
// dead letter gives an empty store.
func openDeadLetters(dir string, readOnly bool) (*deadLetterStore, error) {
	s := &deadLetterStore{path: filepath.Join(dir, deadLettersFileName), readOnly: readOnly, wake: make(chan struct{})}
	o := &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType, ReadOnly: readOnly}
	if readOnly {
		if _, err := os.Stat(s.path); errors.Is(err, os.ErrNotExist) {
			return s, nil
		}
		db, err := bolt.Open(s.path, fileMode, o)
		if err != nil {
			return nil, fmt.Errorf("open dead letters: %w", err)
		}
		s.db = db
		return s, nil
	}
	_, statErr := os.Stat(s.path)
	db, err := bolt.Open(s.path, fileMode, o)
	if err != nil {
		return nil, fmt.Errorf("open dead letters: %w", err)
	}
	// Only a new file gets a write (and fsync) at open.
	exists := false
	err = db.View(func(tx *bolt.Tx) error {
		exists = tx.Bucket(deadLettersBucket) != nil
		return nil
	})
	if err == nil && !exists {
		err = db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(deadLettersBucket)
			return err
		})
	}
	if err == nil && errors.Is(statErr, os.ErrNotExist) {
		err = syncDir(dir)
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open dead letters: %w", err)
	}
	s.db = db
	return s, nil
}

// close closes the file after running transactions end. Idempotent.
func (s *deadLetterStore) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.db == nil {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close dead letters: %w", err)
	}
	return nil
}

// update runs fn in a write transaction, which bbolt fsyncs on commit. A
// commit that fails breaks the handle (see deadletters_fault.go): the
// error wraps ErrWriteFailed and the next call reopens the file first.
func (s *deadLetterStore) update(ctx context.Context, fn func(b *bolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.mend(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.closed:
		return pipeline.ErrJournalClosed
	case s.readOnly:
		return ErrReadOnly
	case s.db == nil: // a reopen after a failed commit failed
		return errDeadLettersBroken
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	b := tx.Bucket(deadLettersBucket)
	if b == nil {
		_ = tx.Rollback()
		return &CorruptionError{Segment: deadLettersFileName, Reason: "dead-letter bucket missing"}
	}
	if err := fn(b); err != nil {
		_ = tx.Rollback()
		return err
	}
	id := uint64(tx.ID())
	if err := tx.Commit(); err != nil {
		s.breakHandle(id, err)
		return fmt.Errorf("%w: %s: commit: %w", ErrWriteFailed, deadLettersFileName, err)
	}
	return nil
}

// view runs fn in a read transaction; b is nil when nothing was ever
// stored (a read-only store without a file).
func (s *deadLetterStore) view(ctx context.Context, fn func(b *bolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.mend(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return pipeline.ErrJournalClosed
	}
	if s.db == nil {
		if s.readOnly {
			return fn(nil)
		}
		return errDeadLettersBroken
	}
	return s.db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket(deadLettersBucket)) })
}

func (s *deadLetterStore) put(ctx context.Context, letters []pipeline.DeadLetter) error {
	type kv struct{ k, v []byte }
	enc := make([]kv, 0, len(letters))
	for i := range letters {
		l := &letters[i]
		if err := checkDeadLetterSink(l.Sink); err != nil {
			return fmt.Errorf("put dead letters: %w", err)
		}
		v, err := encodeDeadLetter(l)
		if err != nil {
			return fmt.Errorf("put dead letters: sink %s seq %d: %w", l.Sink, l.Seq, err)
		}
		enc = append(enc, kv{deadLetterKey(l.Sink, l.Seq), v})
	}
	if len(enc) == 0 {
		return nil
	}
	err := s.update(ctx, func(b *bolt.Bucket) error {
		for _, e := range enc {
			if err := b.Put(e.k, e.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put dead letters: %w", err)
	}
	return nil
}

// walk calls fn for each letter f matches, in key order, a page at a time.
func (s *deadLetterStore) walk(ctx context.Context, f pipeline.DeadLetterFilter, fn func(pipeline.DeadLetter) error) error {
	var after []byte // the last key handed out
	for {
		var page []pipeline.DeadLetter
		size := 0
		err := s.view(ctx, func(b *bolt.Bucket) error {
			if b == nil {
				return nil
			}
			return scanDeadLetters(b, f, after, func(k, v []byte) (bool, error) {
				l, err := decodeDeadLetter(k, v)
				if err != nil {
					return false, err
				}
				after = append(after[:0], k...)
				if !f.Matches(&l) {
					return true, nil
				}
				page = append(page, l)
				size += len(v)
				return len(page) < deadLetterPage && size < deadLetterPageBytes, nil
			})
		})
		if err != nil {
			return fmt.Errorf("list dead letters: %w", err)
		}
		for _, l := range page {
			if err := fn(l); err != nil {
				return err
			}
		}
		if len(page) < deadLetterPage && size < deadLetterPageBytes {
			return nil
		}
	}
}

func (s *deadLetterStore) delete(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	n := 0
	err := s.update(ctx, func(b *bolt.Bucket) error {
		n = 0
		// Deleting while a cursor walks can skip keys: collect them first.
		var keys [][]byte
		err := scanDeadLetters(b, f, nil, func(k, v []byte) (bool, error) {
			l, err := decodeDeadLetter(k, v)
			if err != nil {
				return false, err
			}
			if f.Matches(&l) {
				keys = append(keys, slices.Clone(k))
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete dead letters: %w", err)
	}
	return n, nil
}

func (s *deadLetterStore) requestRedrive(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	n := 0
	err := s.update(ctx, func(b *bolt.Bucket) error {
		n = 0
		type kv struct{ k, v []byte }
		var changed []kv
		err := scanDeadLetters(b, f, nil, func(k, v []byte) (bool, error) {
			l, err := decodeDeadLetter(k, v)
			if err != nil {
				return false, err
			}
			if !f.Matches(&l) {
				return true, nil
			}
			n++
			if l.RedriveRequested {
				return true, nil
			}
			l.RedriveRequested = true
			nv, err := encodeDeadLetter(&l)
			if err != nil {
				return false, err
			}
			changed = append(changed, kv{slices.Clone(k), nv})
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, c := range changed {
			if err := b.Put(c.k, c.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("request redrive: %w", err)
	}
	if n > 0 {
		s.wakeMu.Lock()
		close(s.wake)
		s.wake = make(chan struct{})
		s.wakeMu.Unlock()
	}
	return n, nil
}

func (s *deadLetterStore) redriveRequested() <-chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	return s.wake
}

// scanDeadLetters calls fn with the key and value (valid only inside the
// transaction) of each stored letter that f could match, in key order,
// starting after the key after (nil: from the start), until fn returns
// false or an error. It narrows the scan by f.Sink and, with a sink, by
// f.Seqs; fn still has to apply f.
func scanDeadLetters(b *bolt.Bucket, f pipeline.DeadLetterFilter, after []byte, fn func(k, v []byte) (bool, error)) error {
	var prefix []byte
	if f.Sink != "" {
		prefix = append([]byte(f.Sink), 0)
	}
	if prefix != nil && len(f.Seqs) > 0 {
		seqs := slices.Clone(f.Seqs)
		slices.Sort(seqs)
		for _, seq := range slices.Compact(seqs) {
			k := deadLetterKey(f.Sink, seq)
			if after != nil && bytes.Compare(k, after) <= 0 {
				continue
			}
			v := b.Get(k)
			if v == nil {
				continue
			}
			if more, err := fn(k, v); err != nil || !more {
				return err
			}
		}
		return nil
	}
	c := b.Cursor()
	var k, v []byte
	switch {
	case after != nil:
		k, v = c.Seek(after)
		if bytes.Equal(k, after) {
			k, v = c.Next()
		}
	case prefix != nil:
		k, v = c.Seek(prefix)
	default:
		k, v = c.First()
	}
	for ; k != nil; k, v = c.Next() {
		if prefix != nil && !bytes.HasPrefix(k, prefix) {
			return nil
		}
		if more, err := fn(k, v); err != nil || !more {
			return err
		}
	}
	return nil
}
