package journal

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// commitGroup commits one group of queued appends and replies to them. It
// returns false when the queue was empty.
//
// The group starts with what is queued. Its transaction is opened at once
// and every request is sealed (sequence, time, chain hash, CRC) and put as
// soon as it is taken, so that this work overlaps with appenders still
// encoding. The group then keeps taking arrivals until it holds as many
// requests as were in flight around the last commit, MaxBatchBytes is
// reached, or half the last bbolt commit's duration (its writes and
// fsyncs; at most maxGather) has passed. Without that wait, concurrent appenders settle into two cohorts
// that alternate (one commits while the other queues), halving every
// group. A lone appender never waits.
func (j *Journal) commitGroup() bool {
	c := &j.c
	c.group = c.group[:0]
	n, size, _, _ := j.take(j.opts.MaxBatchBytes, true)
	if n == 0 {
		return size > 0 // only cancelled requests: look again
	}
	err := j.groupTx(time.Now(), size)
	j.qmu.Lock()
	j.qtarget = len(c.group) + len(j.queue)
	j.qmu.Unlock()
	for _, r := range c.group {
		r.err = err
		r.done <- struct{}{}
	}
	clear(c.group)
	return true
}

// groupTx runs the transaction of the group started in c.group. When it
// fails because the disk is full (ENOSPC, not the size limit), segments
// every cursor has passed are reclaimed and the group is tried once more
// before it is refused.
func (j *Journal) groupTx(start time.Time, size int) error {
	err := j.groupTxOnce(start, size)
	if !isDiskFull(err) || j.reclaimPassed(max(j.now(), j.c.lastTime)) == 0 {
		return err
	}
	return j.groupTxOnce(start, size)
}

func (j *Journal) groupTxOnce(start time.Time, size int) error {
	c := &j.c
	if err := j.reopenActive(); err != nil {
		j.tel.failed("io")
		return err
	}
	now := max(j.now(), c.lastTime)
	events := 0
	for _, r := range c.group {
		events += r.events()
	}
	if events > 0 {
		if err := j.ensureSpace(now, int64(size)); err != nil {
			j.tel.failed("full")
			return err
		}
	}
	db, seg := c.db, c.active
	rotate := events > 0 && c.last >= c.active.first &&
		(c.logical-c.carried >= j.opts.SegmentMaxBytes || now-c.created >= int64(j.opts.SegmentMaxAge))
	if rotate {
		var err error
		if seg, db, err = j.createSegment(c.last + 1); err != nil {
			j.tel.failed("rotate")
			return classify(fmt.Errorf("rotate: %w", err), j)
		}
	}
	abandon := func(err error) error {
		j.redirty()
		if rotate {
			_ = db.Close()
			_ = os.Remove(seg.path)
			_ = syncDir(j.dir)
		}
		j.tel.failed("io")
		return classify(err, j)
	}
	tx, err := db.Begin(true)
	if err != nil {
		return abandon(err)
	}
	w := newGroupWriter(j, tx, now)
	if err := w.begin(rotate); err != nil {
		_ = tx.Rollback()
		return abandon(err)
	}
	w.put(c.group)
	if err := j.gatherInto(&w, start, size); err != nil {
		_ = tx.Rollback()
		return abandon(err)
	}
	if err := j.writeCursors(tx, rotate); err != nil {
		_ = tx.Rollback()
		return abandon(err)
	}
	logical := tx.Size()
	commitStart := time.Now()
	if err := j.commitGroupTx(tx, rotate); err != nil {
		return abandon(err)
	}
	c.lastCommit = time.Since(commitStart)
	c.logical = logical
	events = 0
	for _, r := range c.group {
		events += r.events()
	}
	j.committed(c.group, seg, db, rotate, now, w.seq, w.hash, events)
	j.tel.commitDuration.Record(context.Background(), time.Since(start).Seconds())
	return nil
}

// commitGroupTx commits a group's transaction: through commitActive on
// the active segment; a rotating group's transaction is on a new file,
// which abandon removes when the commit fails.
func (j *Journal) commitGroupTx(tx *bolt.Tx, rotate bool) error {
	if !rotate {
		return j.commitActive(tx)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: commit: %w", ErrWriteFailed, err)
	}
	return nil
}

// gatherInto adds arriving requests to the open group (see commitGroup).
func (j *Journal) gatherInto(w *groupWriter, start time.Time, size int) error {
	wait := min(j.c.lastCommit/2, maxGather)
	deadline := start.Add(wait)
	room := int64(j.opts.MaxBatchBytes)
	if limit := j.opts.RetentionMaxBytes; limit > 0 {
		room = min(room, limit-j.usedBytes())
	}
	done := wait <= 0
	for w.err == nil {
		k := len(j.c.group)
		_, s, left, target := j.take(int(room)-size, false)
		size += s
		w.put(j.c.group[k:])
		if done || left > 0 || len(j.c.group) >= target || int64(size) >= room {
			break
		}
		// After the wait ends, take stragglers once more and stop.
		done = !j.waitMore(deadline)
	}
	return w.err
}

// groupWriter seals and puts a group's records and state into its
// transaction.
type groupWriter struct {
	j      *Journal
	tx     *bolt.Tx
	recs   *bolt.Bucket
	states *bolt.Bucket
	seq    uint64   // last sequence put
	hash   [32]byte // hash of seq
	now    int64
	err    error
}

func newGroupWriter(j *Journal, tx *bolt.Tx, now int64) groupWriter {
	return groupWriter{j: j, tx: tx, seq: j.c.last, hash: j.c.hash, now: now}
}

func (w *groupWriter) begin(rotate bool) error {
	if rotate {
		if err := w.j.initRotatedTx(w.tx, w.now); err != nil {
			return fmt.Errorf("rotate: %w", err)
		}
	}
	w.recs = w.tx.Bucket(bucketRecords)
	w.recs.FillPercent = 1.0
	return nil
}

// put seals and writes the records of reqs and applies their state
// updates, in order. The first error sticks in w.err.
func (w *groupWriter) put(reqs []*request) {
	c := &w.j.c
	for _, r := range reqs {
		if w.err != nil {
			return
		}
		r.first, r.time = w.seq+1, w.now
		for i := range r.ends {
			w.seq++
			v := r.value(i)
			c.chain.seal(v, w.seq, w.now, &w.hash)
			binary.BigEndian.PutUint64(c.key[:], w.seq)
			if err := w.recs.Put(c.key[:], v); err != nil {
				w.err = err
				return
			}
		}
		r.last = w.seq
		if r.events() == 0 {
			r.first, r.last = 0, 0
		}
		if len(r.upd) > 0 && w.states == nil {
			w.states = w.tx.Bucket(bucketState)
		}
		for _, u := range r.upd {
			if err := applyState(w.states, u); err != nil {
				w.err = err
				return
			}
		}
	}
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
		seg.active.Store(true)
		old.active.Store(false)
		j.handles.used(old, true) // its handle now counts against MaxOpenSegments
		old.dropPages()           // what bbolt's writes touched through the map
		seg.db = db
		segs = append(segs[:len(segs):len(segs)], seg)
		c.active, c.db, c.created, c.prev = seg, db, now, c.hash
		c.carried = carriedBytesOf(db)
		j.log.Info("journal: rotated segment", "sealed", old.name, "sealed_last", c.last, "active", seg.name)
		if c.carried > j.opts.SegmentMaxBytes {
			j.log.Warn("journal: the state carried into every segment is larger than a segment; each rotation copies it",
				"carried_bytes", c.carried, "segment_max_bytes", j.opts.SegmentMaxBytes)
		}
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
		j.saveSegmentCache()
	}
}
