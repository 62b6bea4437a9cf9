package journal

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
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
	// carried is the part of logical that the carried state (sources' and
	// consumers' state) takes: it does not count against
	// SegmentMaxBytes, or state larger than a segment would rotate at
	// every commit (carriedBytes).
	carried int64

	chain      *chainer
	key        [keySize]byte
	group      []*request
	writes     []cursorWrite
	retainNext int64

	gatherTimer *time.Timer
	lastCommit  time.Duration // duration of the last tx.Commit (writes and fsyncs)

	// A failed commit breaks the active handle until reopenActive
	// succeeds (fault.go).
	broken    error     // the failed commit's error; nil when sound
	failedTx  uint64    // bbolt id of the failed transaction, 0 once undone
	undoForce bool      // the undo was written but not synced: write it again
	reopenErr error     // why the last reopen failed
	retryAt   time.Time // no reopen attempt before
}

// run is the committer goroutine. It drains the append queue into group
// commits, flushes cursors and applies retention until Close.
func (j *Journal) run() {
	defer close(j.done)
	tick := min(j.opts.CursorFlushInterval, j.opts.RetentionInterval)
	timer := j.clock.NewTimer(tick)
	defer timer.Stop()
	j.c.gatherTimer = time.NewTimer(time.Hour)
	j.c.gatherTimer.Stop()
	// The first periodic pass waits an interval, not Open: the consumers
	// of a reopened journal (the engine's sinks) register in the meantime,
	// so that a new one keeps the backlog it starts at.
	j.c.retainNext = j.now() + int64(j.opts.RetentionInterval)
	for {
		select {
		case <-j.wake:
			j.drain()
		case <-timer.C():
			if j.cursorsDirty() {
				if err := j.flushCursors(); err != nil {
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
		if err := j.flushCursors(); err != nil {
			j.closeErr = fmt.Errorf("close journal: flush cursors: %w", err)
		}
	}
}

// drain commits groups until the queue is empty.
func (j *Journal) drain() {
	for j.commitGroup() {
	}
}

// take moves queued requests into j.c.group while they fit in budget
// bytes (the first always fits when first is set), claiming each;
// requests cancelled by their appenders are dropped. It returns the
// requests added, the bytes consumed, how many stay queued and the current
// gathering target.
func (j *Journal) take(budget int, first bool) (n, size, left, target int) {
	j.qmu.Lock()
	q := j.queue
	i := 0
	for ; i < len(q); i++ {
		b := q[i].bytes
		if size+b > budget && (!first || i > 0) {
			break
		}
		size += b
		if q[i].state.CompareAndSwap(reqQueued, reqTaken) {
			j.c.group = append(j.c.group, q[i])
			n++
		}
	}
	j.qbytes -= size
	if i == len(q) {
		clear(q)
		j.queue, j.spare = j.spare[:0], q[:0]
	} else {
		rest := copy(q, q[i:])
		clear(q[rest:])
		j.queue = q[:rest]
	}
	left, target = len(j.queue), j.qtarget
	j.qmu.Unlock()
	return n, size, left, target
}

// maxGather bounds how long a group waits for more appenders.
const maxGather = time.Millisecond

// waitMore waits until an append arrives, the timer fires or the journal
// closes; it reports whether to keep gathering.
func (j *Journal) waitMore(deadline time.Time) bool {
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	t := j.c.gatherTimer
	t.Reset(d)
	defer t.Stop()
	select {
	case <-j.wake:
		return true
	case <-t.C:
		return false
	case <-j.closing:
		return false
	}
}

// flushCursors writes the dirty cursors in a transaction of their own.
func (j *Journal) flushCursors() error {
	err := j.updateActive(func(tx *bolt.Tx) error { return j.writeCursors(tx, false) })
	if err != nil {
		j.redirty()
		return classify(err, j)
	}
	return nil
}
