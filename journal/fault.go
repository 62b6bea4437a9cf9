package journal

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// reopenBackoff is the least time between two attempts to reopen the
// active segment after a failed commit; appends in between are refused at
// once.
const reopenBackoff = 200 * time.Millisecond

// commitActive commits a write transaction of the active segment. Any
// commit error is fatal for the handle: bbolt may already count the
// failed transaction (its meta page can be written before the final
// fdatasync fails), and after a failed fsync the kernel may have dropped
// the unwritten pages, so nothing more is written or acknowledged through
// this file descriptor. The handle is marked broken and reopened at once
// (reopenActive); the returned error wraps ErrWriteFailed.
func (j *Journal) commitActive(tx *bolt.Tx) error {
	id := uint64(tx.ID())
	if err := tx.Commit(); err != nil {
		j.breakActive(id, err)
		_ = j.reopenActive()
		return fmt.Errorf("%w: commit: %w", ErrWriteFailed, err)
	}
	return nil
}

// updateActive runs fn in a write transaction of the active segment and
// commits it with commitActive.
func (j *Journal) updateActive(fn func(tx *bolt.Tx) error) error {
	if err := j.reopenActive(); err != nil {
		return err
	}
	tx, err := j.c.db.Begin(true)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return j.commitActive(tx)
}

// breakActive records that the commit of transaction txid failed.
func (j *Journal) breakActive(txid uint64, cause error) {
	c := &j.c
	if c.broken == nil {
		c.broken, c.failedTx = cause, txid
		c.retryAt = time.Time{}
	}
	j.refusing.Store(true)
	j.tel.commitFailed()
	j.log.Error("journal: commit failed; refusing writes until the active segment is reopened",
		"segment", c.active.name, "acknowledged_last", c.last, "error", cause)
}

// reopenActive makes a broken active handle usable again; it returns nil
// at once when the handle is sound. It closes the handle, undoes the
// failed transaction in the file if its meta reached it
// (undoBoltCommit), opens the file on a new descriptor, re-derives the
// head and chain hash from what is on disk, deletes any record above the
// last acknowledged sequence, and checks that every acknowledged record is
// there. Until that succeeds every write is refused with an error wrapping
// ErrWriteFailed (classified as a *FullError when the cause is ENOSPC);
// attempts are at least reopenBackoff apart.
func (j *Journal) reopenActive() error {
	c := &j.c
	if c.broken == nil {
		return nil
	}
	if now := time.Now(); now.Before(c.retryAt) {
		return j.refusal()
	} else {
		c.retryAt = now.Add(reopenBackoff)
	}
	s := c.active
	if c.db != nil {
		s.detach()
		if err := c.db.Close(); err != nil {
			j.log.Warn("journal: closing the failed handle", "segment", s.name, "error", err)
		}
		c.db = nil
	}
	db, logical, err := j.reopenFile(s)
	if err != nil {
		c.reopenErr = err
		s.attach(nil, j.refusal())
		j.tel.reopened(false)
		j.log.Error("journal: cannot reopen the active segment; writes stay refused", "segment", s.name, "error", err)
		return j.refusal()
	}
	c.db, c.logical = db, logical
	c.broken, c.reopenErr, c.failedTx = nil, nil, 0
	s.attach(db, nil)
	j.refusing.Store(false)
	j.tel.reopened(true)
	j.log.Warn("journal: active segment reopened after a failed commit; writes accepted again",
		"segment", s.name, "last", c.last)
	return nil
}

// refusal is the error of writes refused while the handle is broken.
func (j *Journal) refusal() error {
	c := &j.c
	cause := c.reopenErr
	if cause == nil {
		cause = c.broken
	}
	return classify(fmt.Errorf("%w: writes refused until the active segment %s can be reopened: %w",
		ErrWriteFailed, c.active.name, cause), j)
}

// reopenFile does the file work of reopenActive and returns the new handle
// and its logical size.
func (j *Journal) reopenFile(s *segment) (*bolt.DB, int64, error) {
	c := &j.c
	if c.failedTx != 0 {
		wrote, err := undoBoltCommit(s.path, c.failedTx, c.undoForce)
		if err != nil {
			c.undoForce = c.undoForce || wrote
			return nil, 0, err
		}
		if wrote {
			j.log.Warn("journal: undid the failed transaction in the segment file", "segment", s.name, "txid", c.failedTx)
		}
		c.failedTx, c.undoForce = 0, false
	}
	db, err := j.boltOpenActive(s.path, false)
	if err != nil {
		return nil, 0, fmt.Errorf("reopen %s: %w", s.name, err)
	}
	info, logical, err := onDisk(db, s)
	if err == nil && info.last > c.last {
		j.log.Warn("journal: removing records of refused appends", "segment", s.name,
			"first", c.last+1, "last", info.last)
		if err = trimAbove(db, c.last, info.last); err == nil {
			info, logical, err = onDisk(db, s)
		}
	}
	if err == nil {
		err = j.checkAcknowledged(s, info)
	}
	if err != nil {
		_ = db.Close()
		return nil, 0, err
	}
	return db, logical, nil
}

// checkAcknowledged compares the reopened file with the committer's last
// acknowledged state.
func (j *Journal) checkAcknowledged(s *segment, info segmentInfo) error {
	c := &j.c
	switch {
	case info.last < c.last:
		return &CorruptionError{Segment: s.name, Seq: info.last + 1,
			Reason: fmt.Sprintf("acknowledged records up to %d are missing after reopening", c.last)}
	case info.lastHash != c.hash:
		return &CorruptionError{Segment: s.name, Seq: info.last, Reason: "chain hash differs from the acknowledged head after reopening"}
	}
	return nil
}

// onDisk reads what a segment file says about itself.
func onDisk(db *bolt.DB, s *segment) (segmentInfo, int64, error) {
	var (
		info    segmentInfo
		logical int64
	)
	err := guard(s.name, func() error {
		return db.View(func(tx *bolt.Tx) error {
			var err error
			info, err = readSegmentInfo(tx, s)
			logical = tx.Size()
			return err
		})
	})
	return info, logical, err
}

// trimAbove deletes the records after keep up to last and commits (with
// fsync, on the new descriptor).
func trimAbove(db *bolt.DB, keep, last uint64) error {
	return db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		for seq := keep + 1; seq <= last; seq++ {
			if err := b.Delete(seqKey(seq)); err != nil {
				return err
			}
		}
		return nil
	})
}

// isResourceError reports errors of exhausted process or system resources
// (file descriptors, memory, address space) and a file lock held
// elsewhere: transient, never a sign of corruption.
func isResourceError(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EAGAIN, berrors.ErrTimeout} {
		if errors.Is(err, e) {
			return true
		}
	}
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "too many open files") || strings.Contains(msg, "cannot allocate memory")
}

// resourceError wraps a transient resource failure of opening segment
// name in ErrResources.
func resourceError(name string, err error) error {
	return fmt.Errorf("%w: open segment %s: %w", ErrResources, name, err)
}
