package journal

import (
	"context"
	"errors"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// Read limits applied when pipeline.ReadLimit fields are zero.
const (
	DefaultReadRecords = 256
	DefaultReadBytes   = 1 << 20
)

// Read returns records with Seq >= from in order, at most limit.MaxRecords
// (default 256) and about limit.MaxBytes encoded bytes (default 1 MiB; at
// least one record). When no such record exists yet it blocks, without
// polling, until an append publishes one, ctx ends (ctx.Err()) or the
// journal closes (pipeline.ErrJournalClosed). A from of 0 means 1; a from
// older than the oldest retained record reads from the oldest. The records
// are copies the caller owns. A record that fails its CRC or decoding
// returns a *CorruptionError.
func (j *Journal) Read(ctx context.Context, from uint64, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	maxRecs, maxBytes := limit.MaxRecords, limit.MaxBytes
	if maxRecs <= 0 {
		maxRecs = DefaultReadRecords
	}
	if maxBytes <= 0 {
		maxBytes = DefaultReadBytes
	}
	from = max(from, 1)
	for {
		if j.isClosed() {
			return nil, fmt.Errorf("read: %w", pipeline.ErrJournalClosed)
		}
		h := j.head.Load()
		if from <= h.last {
			recs, err := j.readFrom(h, from, maxRecs, maxBytes)
			if errors.Is(err, errSegmentGone) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read: %w", err)
			}
			return recs, nil
		}
		select {
		case <-h.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-j.closing:
			return nil, fmt.Errorf("read: %w", pipeline.ErrJournalClosed)
		}
	}
}

// readFrom reads records from..h.last within the limits, crossing segment
// boundaries. It returns errSegmentGone only when it read nothing.
func (j *Journal) readFrom(h *head, from uint64, maxRecs, maxBytes int) ([]pipeline.Record, error) {
	segs := h.segs
	from = max(from, h.first())
	i := sort.Search(len(segs), func(i int) bool { return segs[i].first > from }) - 1
	out := make([]pipeline.Record, 0, min(uint64(maxRecs), h.last-from+1))
	size := 0
	full := false
	for ; i < len(segs) && !full && from <= h.last; i++ {
		s := segs[i]
		err := s.view(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords)
			if b == nil {
				return &CorruptionError{Segment: s.name, Reason: "segment has no records bucket"}
			}
			c := b.Cursor()
			for k, v := c.Seek(seqKey(from)); k != nil; k, v = c.Next() {
				seq, ok := keySeq(k)
				if !ok || seq != from {
					return &CorruptionError{Segment: s.name, Seq: from, Reason: "record missing (sequence gap)"}
				}
				rs := keySize + len(v)
				if len(out) > 0 && size+rs > maxBytes {
					full = true
					return nil
				}
				rec, err := decodeRecord(seq, v)
				if err != nil {
					return &CorruptionError{Segment: s.name, Seq: seq, Reason: "bad record", Err: err}
				}
				out = append(out, rec)
				size += rs
				from++
				if len(out) >= maxRecs || from > h.last {
					full = true
					return nil
				}
			}
			return nil
		})
		if err != nil {
			if len(out) > 0 && errors.Is(err, errSegmentGone) {
				return out, nil
			}
			return nil, err
		}
		if !full && i+1 < len(segs) && from != segs[i+1].first && from <= h.last {
			return nil, &CorruptionError{Segment: s.name, Seq: from, Reason: "record missing (sequence gap at segment end)"}
		}
	}
	if len(out) == 0 && from <= h.last {
		return nil, &CorruptionError{Seq: from, Reason: "record missing"}
	}
	return out, nil
}

// Scan calls fn for each record with from <= Seq <= to, in order, reading
// in bounded chunks so that memory stays small whatever the range. A to of
// 0 means the head when Scan starts; Scan never waits for new records. A
// from older than the oldest retained record starts at the oldest. Scan
// stops at the first error from fn (returned as is) or ctx.
func (j *Journal) Scan(ctx context.Context, from, to uint64, fn func(pipeline.Record) error) error {
	if j.isClosed() {
		return fmt.Errorf("scan: %w", pipeline.ErrJournalClosed)
	}
	h := j.head.Load()
	if to == 0 || to > h.last {
		to = h.last
	}
	from = max(from, 1)
	for from <= to {
		if err := ctx.Err(); err != nil {
			return err
		}
		if j.isClosed() {
			return fmt.Errorf("scan: %w", pipeline.ErrJournalClosed)
		}
		h := j.head.Load()
		recs, err := j.readFrom(h, from, DefaultReadRecords, DefaultReadBytes)
		if errors.Is(err, errSegmentGone) {
			continue
		}
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		for _, r := range recs {
			if r.Seq > to {
				return nil
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		from = recs[len(recs)-1].Seq + 1
	}
	return nil
}
