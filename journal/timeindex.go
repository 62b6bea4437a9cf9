package journal

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// SeqAtTime returns the sequence of the oldest retained record appended at
// or after t: the start of a time range. It returns the next sequence to
// be appended (JournalStats.Last+1) when every record is older than t, and
// the oldest retained sequence when t is before all of them.
//
// It does not scan: append times never go backwards (Verify enforces it),
// so it binary-searches the sealed segments by the append time of their
// last record (cached once read), then the sequences of one segment,
// reading one record per step: O(log segments + log records) reads. The
// last record at or before t (the end of a time range) is
// SeqAtTime(t.Add(time.Nanosecond)) - 1.
func (j *Journal) SeqAtTime(ctx context.Context, t time.Time) (uint64, error) {
	for {
		if j.isClosed() {
			return 0, fmt.Errorf("seq at time: %w", pipeline.ErrJournalClosed)
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		seq, err := j.seqAtTime(j.head.Load(), t.UnixNano())
		if errors.Is(err, errSegmentGone) {
			continue // retention removed a segment meanwhile: look again
		}
		if err != nil {
			return 0, fmt.Errorf("seq at time: %w", err)
		}
		return seq, nil
	}
}

func (j *Journal) seqAtTime(h *head, t int64) (uint64, error) {
	if h.last < h.first() {
		return h.last + 1, nil
	}
	segs := h.segs
	// The first sealed segment whose newest record is at or after t; the
	// active segment if there is none.
	var searchErr error
	i := sort.Search(len(segs)-1, func(i int) bool {
		if searchErr != nil {
			return true
		}
		info, err := segs[i].loadInfo()
		if err != nil {
			searchErr = err
			return true
		}
		return info.lastTime >= t
	})
	if searchErr != nil {
		return 0, searchErr
	}
	s := segs[i]
	last := h.last
	if i+1 < len(segs) {
		last = segs[i+1].first - 1
	}
	lo, hi := s.first, last+1 // the answer is in [lo, hi]
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil {
			return &CorruptionError{Segment: s.name, Reason: "segment has no records bucket"}
		}
		for lo < hi {
			mid := lo + (hi-lo)/2
			v := b.Get(seqKey(mid))
			if v == nil {
				return &CorruptionError{Segment: s.name, Seq: mid, Reason: "record missing"}
			}
			if err := checkRecord(mid, v); err != nil {
				return &CorruptionError{Segment: s.name, Seq: mid, Reason: err.Error()}
			}
			if recordTime(v) >= t {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return lo, nil
}
