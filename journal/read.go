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
// are copies the caller owns, except that consecutive records of one call
// whose extensions are equal share one Extensions map: like every field of
// a pipeline.Event it must not be modified (clone it to change it). A
// record that fails its CRC or decoding returns a *CorruptionError.
func (j *Journal) Read(ctx context.Context, from uint64, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	return j.ReadInto(ctx, nil, from, limit)
}

var _ pipeline.BufferedReader = (*Journal)(nil)

// ReadInto is Read appending the records to buf[:0], in buf's array when
// it has room for as many as the read may return (pipeline.BufferedReader):
// a consumer reading batch after batch reuses one array instead of
// allocating one per batch. buf's earlier contents are overwritten.
func (j *Journal) ReadInto(ctx context.Context, buf []pipeline.Record, from uint64, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
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
			recs, err := j.readFrom(h, buf, from, maxRecs, maxBytes)
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
// boundaries, appending them to buf[:0] (a new array if buf has no room
// for as many as there may be). It returns errSegmentGone only when it
// read nothing.
func (j *Journal) readFrom(h *head, buf []pipeline.Record, from uint64, maxRecs, maxBytes int) ([]pipeline.Record, error) {
	segs := h.segs
	from = max(from, h.first())
	i := sort.Search(len(segs), func(i int) bool { return segs[i].first > from }) - 1
	if n := min(uint64(maxRecs), h.last-from+1); uint64(cap(buf)) < n {
		buf = make([]pipeline.Record, 0, n)
	}
	r := segmentReader{
		out:      buf[:0],
		from:     from,
		last:     h.last,
		maxRecs:  maxRecs,
		maxBytes: maxBytes,
	}
	for ; i < len(segs) && !r.full && r.from <= h.last; i++ {
		s := segs[i]
		if err := s.view(func(tx *bolt.Tx) error { return r.read(s, tx) }); err != nil {
			if len(r.out) > 0 && errors.Is(err, errSegmentGone) {
				return r.out, nil
			}
			return nil, err
		}
		if r.full || i+1 >= len(segs) {
			continue
		}
		if r.from != segs[i+1].first && r.from <= h.last {
			return nil, &CorruptionError{Segment: s.name, Seq: r.from, Reason: "record missing (sequence gap at segment end)"}
		}
		j.closeBehind(h) // the reader has left s
	}
	if len(r.out) == 0 && r.from <= h.last {
		return nil, &CorruptionError{Seq: r.from, Reason: "record missing"}
	}
	return r.out, nil
}

// segmentReader is one readFrom call's progress across segments.
type segmentReader struct {
	out      []pipeline.Record
	from     uint64 // next sequence to read
	last     uint64 // the head's last sequence
	size     int
	maxRecs  int
	maxBytes int
	full     bool
	ext      extCache // the records of one read share equal Extensions maps
}

// read appends s's records from r.from on, within the limits, and tells
// s's residency what it read.
func (r *segmentReader) read(s *segment, tx *bolt.Tx) error {
	b := tx.Bucket(bucketRecords)
	if b == nil {
		return &CorruptionError{Segment: s.name, Reason: "segment has no records bucket"}
	}
	start := r.size
	c := b.Cursor()
	k, v := c.Seek(seqKey(r.from))
	for ; k != nil; k, v = c.Next() {
		seq, ok := keySeq(k)
		if !ok || seq != r.from {
			return &CorruptionError{Segment: s.name, Seq: r.from, Reason: "record missing (sequence gap)"}
		}
		rs := keySize + len(v)
		if len(r.out) > 0 && r.size+rs > r.maxBytes {
			r.full = true
			break
		}
		rec, err := decodeRecord(seq, v, &r.ext)
		if err != nil {
			return &CorruptionError{Segment: s.name, Seq: seq, Reason: "bad record", Err: err}
		}
		r.out = append(r.out, rec)
		r.size += rs
		r.from++
		if len(r.out) >= r.maxRecs || r.from > r.last {
			r.full = true
			break
		}
	}
	s.res.read(tx, r.size-start, !r.full)
	return nil
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
		recs, err := j.readFrom(h, nil, from, DefaultReadRecords, DefaultReadBytes)
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
