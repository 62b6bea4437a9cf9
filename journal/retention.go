package journal

import (
	"context"
	"errors"
	"math"
	"os"

	bolt "go.etcd.io/bbolt"
)

// ageReason returns "age" when segment s holds nothing newer than
// cutoff, else "" (also when s cannot be read, which is logged).
func (j *Journal) ageReason(s *segment, cutoff int64) string {
	info, err := s.loadInfo()
	if err != nil {
		j.log.Error("journal: retention cannot read segment", "segment", s.name, "error", err)
		return ""
	}
	if info.lastTime < cutoff {
		return "age"
	}
	return ""
}

// isDiskFull reports a *FullError for a full disk (not the size limit).
func isDiskFull(err error) bool {
	if err == nil {
		return false // before errors.As, whose target escapes: no allocation per commit
	}
	var fe *FullError
	return errors.As(err, &fe) && fe.Reason == FullReasonDiskFull
}

// ensureSpace refuses an append of need bytes that would take the journal
// past Options.RetentionMaxBytes, after letting retention free what it
// may.
func (j *Journal) ensureSpace(now, need int64) error {
	limit := j.opts.RetentionMaxBytes
	if limit <= 0 || j.usedBytes()+need <= limit {
		return nil
	}
	j.retain(now, need)
	if used := j.usedBytes(); used+need > limit {
		return &FullError{Reason: FullReasonSizeLimit, Limit: limit, Used: used}
	}
	return nil
}

// retain removes the oldest sealed segments that are past
// Options.RetentionMaxAge or, while the journal plus need bytes exceeds
// Options.RetentionMaxBytes, by size. A segment holding a record some
// registered cursor has not consumed is kept, except that size retention
// under FullPolicyDropOldest removes it anyway and counts those records
// as dropped. Segments go oldest first, so retention stops at the first
// segment it must keep.
//
// The new floor (oldest retained sequence) and the dropped count are made
// durable before any file is unlinked: a crash in between leaves files
// that the next Open removes, never a floor that hides missing records.
func (j *Journal) retain(now, need int64) {
	j.retainBy(now, need, false)
}

// reclaimPassed is retention for a full disk (ENOSPC): besides what
// retain removes, it removes every sealed segment that all registered
// cursors have passed, whatever the age and size limits. With no
// registered cursor nothing counts as passed. It returns the number of
// segments removed.
func (j *Journal) reclaimPassed(now int64) int {
	n := j.retainBy(now, 0, true)
	if n > 0 {
		j.log.Warn("journal: disk full; reclaimed segments every cursor has passed", "segments", n)
	}
	return n
}

// retainBy implements retain and reclaimPassed and returns the number of
// segments removed.
func (j *Journal) retainBy(now, need int64, passed bool) int {
	maxAge, limit := int64(j.opts.RetentionMaxAge), j.opts.RetentionMaxBytes
	if maxAge <= 0 && limit <= 0 && !passed {
		return 0
	}
	h := j.head.Load()
	segs := h.segs
	minCur := j.minCursor()
	passed = passed && minCur != math.MaxUint64
	used := j.usedBytes()
	var (
		remove  int
		dropped uint64
		reasons []string
	)
	for ; remove < len(segs)-1; remove++ {
		s, last := segs[remove], segs[remove+1].first-1
		var reason string
		switch {
		case passed && minCur > last:
			reason = "disk full"
		case limit > 0 && used+need > limit:
			reason = "size"
		case maxAge > 0:
			reason = j.ageReason(s, now-maxAge)
		}
		if reason == "" {
			break
		}
		if minCur <= last {
			if reason != "size" || j.opts.FullPolicy != FullPolicyDropOldest {
				break
			}
			dropped += last - max(s.first, minCur) + 1
		}
		used -= s.size.Load()
		reasons = append(reasons, reason)
	}
	if remove == 0 {
		return 0
	}
	floor := segs[remove].first
	total := j.dropped.Load() + dropped
	err := j.updateActive(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJournal)
		if err := b.Put(keyFloor, be64(floor)); err != nil {
			return err
		}
		return b.Put(keyDropped, be64(total))
	})
	if err != nil {
		j.log.Error("journal: retention cannot record the new floor", "error", err)
		return 0
	}
	j.c.floor = floor
	j.dropped.Store(total)
	ctx := context.Background()
	if dropped > 0 {
		j.tel.dropped.Add(ctx, int64(dropped))
		j.log.Warn("journal: dropped records no consumer has read (full policy drop_oldest)",
			"dropped", dropped, "dropped_total", total, "slowest_cursor", minCur, "new_first", floor)
	}
	gone := segs[:remove]
	j.publish(segs[remove:], h.last, h.hash)
	for i, s := range gone {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.log.Error("journal: retention cannot remove segment", "segment", s.name, "error", err)
		}
		j.log.Info("journal: retention removed segment", "segment", s.name, "reason", reasons[i],
			"first", s.first, "last", segs[i+1].first-1, "bytes", s.size.Load())
		s.retire()
	}
	if err := syncDir(j.dir); err != nil {
		j.log.Error("journal: retention cannot sync directory", "error", err)
	}
	j.tel.removed.Add(ctx, int64(remove))
	return remove
}
