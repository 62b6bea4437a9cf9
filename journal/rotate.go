package journal

import (
	"errors"
	"os"
	"strings"
	"syscall"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

func applyState(states *bolt.Bucket, u pipeline.StateUpdate) error {
	if u.Delete {
		b := states.Bucket([]byte(u.Source))
		if b == nil {
			return nil
		}
		if err := b.Delete([]byte(u.Key)); err != nil {
			return err
		}
		if k, _ := b.Cursor().First(); k == nil {
			return states.DeleteBucket([]byte(u.Source))
		}
		return nil
	}
	b, err := states.CreateBucketIfNotExists([]byte(u.Source))
	if err != nil {
		return err
	}
	return b.Put([]byte(u.Key), u.Value)
}

// createSegment creates the file of a new segment starting at first. Its
// meta is written by the first transaction, together with the records
// that start it.
func (j *Journal) createSegment(first uint64) (*segment, *bolt.DB, error) {
	s := newSegment(j.dir, first, false, j.handles)
	db, err := j.boltOpenActive(s.path, true)
	if errors.Is(err, os.ErrExist) {
		// A leftover of a failed rotation: it holds nothing committed.
		_ = os.Remove(s.path)
		db, err = j.boltOpenActive(s.path, true)
	}
	if err != nil {
		_ = os.Remove(s.path)
		return nil, nil, err
	}
	if err := syncDir(j.dir); err != nil {
		_ = db.Close()
		_ = os.Remove(s.path)
		return nil, nil, err
	}
	return s, db, nil
}

// initRotatedTx writes a new segment's meta and copies the carried
// buckets (state, journal info) from the old active segment; cursors are
// written in full by writeCursors.
func (j *Journal) initRotatedTx(tx *bolt.Tx, now int64) error {
	c := &j.c
	if err := writeSegmentMeta(tx, c.last+1, c.hash, nanos(now)); err != nil {
		return err
	}
	dst := tx.Bucket(bucketState)
	err := c.db.View(func(old *bolt.Tx) error {
		src := old.Bucket(bucketState)
		if src == nil {
			return nil
		}
		return src.ForEachBucket(func(name []byte) error {
			sb := src.Bucket(name)
			db, err := dst.CreateBucket(name)
			if err != nil {
				return err
			}
			return sb.ForEach(func(k, v []byte) error {
				return db.Put(k, append([]byte(nil), v...))
			})
		})
	})
	if err != nil {
		return err
	}
	jb := tx.Bucket(bucketJournal)
	if err := jb.Put(keyFloor, be64(c.floor)); err != nil {
		return err
	}
	return jb.Put(keyDropped, be64(j.dropped.Load()))
}

// carriedBytes is the space bbolt allocated in tx's segment for the
// buckets carried from segment to segment that can grow with use (the
// sources' state and the consumers' state); cursors and the journal's own
// keys are a few bytes each.
func carriedBytes(tx *bolt.Tx) int64 {
	var n int64
	for _, name := range [][]byte{bucketState, bucketConsumers} {
		if b := tx.Bucket(name); b != nil {
			st := b.Stats()
			n += int64(st.BranchAlloc + st.LeafAlloc + st.InlineBucketInuse)
		}
	}
	return n
}

// carriedBytesOf is carriedBytes of db's current state (0 if it cannot
// be read: the segment then rotates by its whole size, as before).
func carriedBytesOf(db *bolt.DB) int64 {
	var n int64
	_ = db.View(func(tx *bolt.Tx) error {
		n = carriedBytes(tx)
		return nil
	})
	return n
}

// classify turns out-of-space errors into a *FullError.
func classify(err error, j *Journal) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || isNoSpaceText(err) {
		return &FullError{Reason: FullReasonDiskFull, Used: j.usedBytes(), Err: err}
	}
	return err
}

// isNoSpaceText catches ENOSPC that bbolt reports without wrapping (it
// formats some errors with %s).
func isNoSpaceText(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "no space left on device") || strings.Contains(msg, "disk quota exceeded")
}
