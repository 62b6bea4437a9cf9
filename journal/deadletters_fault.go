package journal

import (
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// deadLetterFault is what the dead-letter store remembers of a commit that
// failed. As for the active segment (fault.go), any commit error is fatal
// for the handle: bbolt may already count the failed transaction, whose
// meta page can reach the file before the final fdatasync fails, and after
// a failed fsync the kernel may have dropped unwritten pages, so nothing
// more is written through that file descriptor. The next operation closes
// the handle, undoes the failed transaction in the file (undoBoltCommit)
// and opens the file on a new descriptor; until that succeeds every
// operation is refused with an error wrapping ErrWriteFailed, and attempts
// are at least reopenBackoff apart.
type deadLetterFault struct {
	mu sync.Mutex
	// failedTx is the transaction whose commit failed; 0 when sound.
	failedTx uint64
	cause    error
	// undoWritten records that an undo wrote the meta page but could not
	// sync it: the next attempt writes and syncs it again (force).
	undoWritten bool
	retryAt     time.Time
}

// breakHandle records that the commit of transaction txid failed.
func (s *deadLetterStore) breakHandle(txid uint64, cause error) {
	s.fault.mu.Lock()
	defer s.fault.mu.Unlock()
	if s.fault.failedTx == 0 {
		s.fault.failedTx, s.fault.cause, s.fault.retryAt = txid, cause, time.Time{}
	}
}

// mend reopens the store if a commit failed; it returns nil at once when
// the handle is sound.
func (s *deadLetterStore) mend() error {
	s.fault.mu.Lock()
	defer s.fault.mu.Unlock()
	f := &s.fault
	if f.failedTx == 0 {
		return nil
	}
	if now := time.Now(); now.Before(f.retryAt) {
		return s.refusalLocked()
	} else {
		f.retryAt = now.Add(reopenBackoff)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil // the operation reports ErrJournalClosed
	}
	if s.db != nil {
		_ = s.db.Close() // its error is the failed commit's, already reported
		s.db = nil
	}
	wrote, err := undoBoltCommit(s.path, f.failedTx, f.undoWritten)
	if err != nil {
		f.undoWritten = f.undoWritten || wrote
		f.cause = err
		return s.refusalLocked()
	}
	db, err := bolt.Open(s.path, fileMode, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		f.cause = err
		return s.refusalLocked()
	}
	s.db = db
	f.failedTx, f.cause, f.undoWritten = 0, nil, false
	return nil
}

// errDeadLettersBroken refuses an operation that found no handle: a
// reopen after a failed commit failed (mend said why).
var errDeadLettersBroken = fmt.Errorf("%w: %s has no usable handle after a failed commit", ErrWriteFailed, deadLettersFileName)

// refusalLocked is the error of operations refused while the handle is
// broken. The caller holds s.fault.mu.
func (s *deadLetterStore) refusalLocked() error {
	return fmt.Errorf("%w: %s cannot be reopened after a failed commit: %w", ErrWriteFailed, deadLettersFileName, s.fault.cause)
}
