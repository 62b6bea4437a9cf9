package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// committer is the state owned by the committer goroutine: the only writer
// of segment files.
type committer struct {
	active   *segment
	db       *bolt.DB
	created  int64 // active segment's creation time, unix nanos
	last     uint64
	hash     [32]byte
	lastTime int64
	floor    uint64
	prev     [32]byte // chain hash before the active segment's first record
	logical  int64    // bbolt's data size of the active segment

	chain      *chainer
	key        [keySize]byte
	group      []*request
	writes     []cursorWrite
	retainNext int64
}

// run is the committer goroutine. It drains the append queue into group
// commits, flushes cursors and applies retention until Close.
func (j *Journal) run() {
	defer close(j.done)
	tick := min(j.opts.CursorFlushInterval, j.opts.RetentionInterval)
	timer := j.clock.NewTimer(tick)
	defer timer.Stop()
	j.retain(j.now(), 0)
	j.c.retainNext = j.now() + int64(j.opts.RetentionInterval)
	for {
		select {
		case <-j.wake:
			j.drain()
		case <-timer.C():
			if j.cursorsDirty() {
				if err := j.commitTx(nil); err != nil {
					j.log.Error("journal: cursor flush failed", "error", err)
				}
			}
			if now := j.now(); now >= j.c.retainNext {
				j.retain(now, 0)
				j.c.retainNext = now + int64(j.opts.RetentionInterval)
			}
			timer.Reset(tick)
		case <-j.closing:
			j.stop()
			return
		}
	}
}

// stop commits what is already queued, refuses new appends and flushes
// cursors.
func (j *Journal) stop() {
	j.qmu.Lock()
	j.stopped = true
	j.qmu.Unlock()
	j.drain()
	if j.cursorsDirty() {
		if err := j.commitTx(nil); err != nil {
			j.closeErr = fmt.Errorf("close journal: flush cursors: %w", err)
		}
	}
}

// drain commits groups until the queue is empty. Appends that arrive
// while a group commits join the next one.
func (j *Journal) drain() {
	for {
		group := j.takeGroup()
		if len(group) == 0 {
			return
		}
		err := j.commitTx(group)
		for _, r := range group {
			r.err = err
			r.done <- struct{}{}
		}
		clear(group)
	}
}

// takeGroup removes up to MaxBatchBytes of requests (at least one) from
// the queue and claims them; requests their appenders cancelled are
// skipped.
func (j *Journal) takeGroup() []*request {
	j.qmu.Lock()
	n, size := 0, 0
	for n < len(j.queue) {
		b := j.queue[n].bytes
		if n > 0 && size+b > j.opts.MaxBatchBytes {
			break
		}
		size += b
		n++
	}
	group := j.c.group[:0]
	for _, r := range j.queue[:n] {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			group = append(group, r)
		}
	}
	if n == len(j.queue) {
		clear(j.queue)
		j.queue, j.spare = j.spare[:0], j.queue[:0]
	} else {
		rest := copy(j.queue, j.queue[n:])
		clear(j.queue[rest:])
		j.queue = j.queue[:rest]
	}
	j.qmu.Unlock()
	j.c.group = group
	return group
}

// commitTx writes group (which may be empty: a cursor flush) and the dirty
// cursors in one transaction, rotating first if the active segment is full
// or old. On success it publishes the new head and fills each request's
// result; on failure nothing is stored and the cursors stay dirty.
func (j *Journal) commitTx(group []*request) error {
	start := time.Now()
	c := &j.c
	now := max(j.now(), c.lastTime)
	events, size := 0, 0
	for _, r := range group {
		events += r.events()
		size += r.bytes
	}
	if events > 0 {
		if err := j.ensureSpace(now, int64(size)); err != nil {
			j.tel.failed("full")
			return err
		}
	}

	db, seg := c.db, c.active
	rotate := events > 0 && c.last >= c.active.first &&
		(c.logical >= j.opts.SegmentMaxBytes || now-c.created >= int64(j.opts.SegmentMaxAge))
	if rotate {
		var err error
		if seg, db, err = j.createSegment(c.last + 1); err != nil {
			j.tel.failed("rotate")
			return classify(fmt.Errorf("rotate: %w", err), j)
		}
	}

	tx, err := db.Begin(true)
	if err == nil {
		var last uint64
		var hash [32]byte
		last, hash, err = j.writeTx(tx, group, now, rotate)
		logical := tx.Size()
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
		if err == nil {
			c.logical = logical
			j.committed(group, seg, db, rotate, now, last, hash, events)
			j.tel.commitDuration.Record(context.Background(), time.Since(start).Seconds())
			return nil
		}
	}
	// Nothing was stored.
	j.redirty()
	if rotate {
		_ = db.Close()
		_ = os.Remove(seg.path)
		_ = syncDir(j.dir)
	}
	if events > 0 {
		j.tel.failed("io")
	}
	return classify(err, j)
}

// writeTx puts the group's records, state updates and the dirty cursors
// (all cursors and carried buckets when rotating) into tx.
func (j *Journal) writeTx(tx *bolt.Tx, group []*request, now int64, rotate bool) (uint64, [32]byte, error) {
	c := &j.c
	if rotate {
		if err := j.initRotatedTx(tx, now); err != nil {
			return 0, [32]byte{}, fmt.Errorf("rotate: %w", err)
		}
	}
	seq, hash := c.last, c.hash
	recs := tx.Bucket(bucketRecords)
	recs.FillPercent = 1.0
	var states *bolt.Bucket
	for _, r := range group {
		r.first, r.time = seq+1, now
		for i := range r.ends {
			seq++
			v := r.value(i)
			c.chain.seal(v, seq, now, &hash)
			binary.BigEndian.PutUint64(c.key[:], seq)
			if err := recs.Put(c.key[:], v); err != nil {
				return 0, hash, err
			}
		}
		r.last = seq
		if r.events() == 0 {
			r.first, r.last = 0, 0
		}
		if len(r.upd) > 0 && states == nil {
			states = tx.Bucket(bucketState)
		}
		for _, u := range r.upd {
			if err := applyState(states, u); err != nil {
				return 0, hash, err
			}
		}
	}
	if err := j.writeCursors(tx, rotate); err != nil {
		return 0, hash, err
	}
	return seq, hash, nil
}

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

// committed installs the results of a successful transaction.
func (j *Journal) committed(group []*request, seg *segment, db *bolt.DB, rotate bool, now int64, last uint64, hash [32]byte, events int) {
	c := &j.c
	h := j.head.Load()
	segs := h.segs
	if rotate {
		old := c.active
		old.setInfo(segmentInfo{created: nanos(c.created), prev: c.prev, last: c.last, lastTime: c.lastTime, lastHash: c.hash})
		old.size.Store(fileSize(old.path))
		seg.db = db
		segs = append(segs[:len(segs):len(segs)], seg)
		c.active, c.db, c.created, c.prev = seg, db, now, c.hash
		j.log.Info("journal: rotated segment", "sealed", old.name, "sealed_last", c.last, "active", seg.name)
	}
	if events > 0 {
		c.lastTime = now
		ctx := context.Background()
		j.tel.appended.Add(ctx, int64(events))
		var b int64
		for _, r := range group {
			b += int64(len(r.buf))
		}
		j.tel.appendedBytes.Add(ctx, b)
		j.tel.groupSize.Record(ctx, int64(events))
	}
	c.last, c.hash = last, hash
	c.active.size.Store(fileSize(c.active.path))
	if events > 0 || rotate {
		j.publish(segs, last, hash)
	}
	if rotate {
		// Before replying, so that an append that rotated sees the result;
		// this costs the group one small transaction once per segment.
		j.retain(now, 0)
	}
}

// createSegment creates the file of a new segment starting at first. Its
// meta is written by the first transaction, together with the records
// that start it.
func (j *Journal) createSegment(first uint64) (*segment, *bolt.DB, error) {
	s := newSegment(j.dir, first, false)
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
