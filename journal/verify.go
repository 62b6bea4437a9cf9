package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// VerifyReport summarizes a successful Verify.
type VerifyReport struct {
	// First and Last are the sequences verified; both zero when the range
	// held no record.
	First, Last uint64
	// Records is the number of records verified.
	Records uint64
	// Segments is the number of segment files examined.
	Segments int
	// Bytes is the encoded size of the records verified.
	Bytes int64
	// HeadHash is the chain hash of Last.
	HeadHash [32]byte
}

// Verify checks records from..to (0 means the oldest retained and the
// current head): every record's CRC32C, version and event encoding, that
// sequences are consecutive (a deleted record is a gap), that append times
// never go backwards, and the SHA-256 hash chain, including across segment
// boundaries (each segment's meta must carry its predecessor's last hash)
// and from the retention floor (segments deleted from the front outside
// retention are reported). It returns the first problem as a
// *CorruptionError (errors.Is(err, ErrCorrupt)) naming the segment, the
// sequence and what is wrong.
//
// The chain cannot reveal records removed from the very end of the
// journal; compare JournalStats.HeadHash with a value recorded elsewhere
// to detect that.
func (j *Journal) Verify(ctx context.Context, from, to uint64) (VerifyReport, error) {
	return j.VerifyRange(ctx, VerifyOptions{From: from, To: to})
}

// VerifyOptions is the range Verify checks, with a progress callback.
type VerifyOptions struct {
	// From and To bound the range, both included; 0 means the oldest
	// retained record and the current head.
	From, To uint64
	// Progress, when set, is called from the verifying goroutine every
	// 4096 records with how many have been checked and how many the range
	// holds (0 when not known).
	Progress func(done, total uint64)
}

// VerifyRange is Verify with options.
func (j *Journal) VerifyRange(ctx context.Context, opts VerifyOptions) (VerifyReport, error) {
	from, to := opts.From, opts.To
	var rep VerifyReport
	if j.isClosed() {
		return rep, fmt.Errorf("verify: %w", pipeline.ErrJournalClosed)
	}
	h := j.head.Load()
	if to == 0 || to > h.last {
		to = h.last
	}
	first := h.first()
	if from <= first {
		if err := j.checkFloor(h); err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
	}
	from = max(from, first, 1)
	v := verifier{ctx: ctx, chain: newChainer(), expect: from, to: to, from: from, progress: opts.Progress}
	if to >= from {
		v.total = to - from + 1
	}
	for i, s := range h.segs {
		if v.expect > to {
			break
		}
		segLast := h.last
		if i+1 < len(h.segs) {
			segLast = h.segs[i+1].first - 1
		}
		if segLast < v.expect {
			continue
		}
		rep.Segments++
		err := s.view(func(tx *bolt.Tx) error { return v.segment(tx, s, i == len(h.segs)-1) })
		if err != nil {
			var ce *CorruptionError
			if errors.As(err, &ce) {
				if ce.Segment == "" {
					ce.Segment = s.name
				}
				if ce.Seq == 0 {
					ce.Seq = v.expect
				}
			}
			return rep, fmt.Errorf("verify: %w", err)
		}
	}
	if v.expect <= to {
		return rep, fmt.Errorf("verify: %w", &CorruptionError{Seq: v.expect,
			Reason: fmt.Sprintf("records %d..%d missing", v.expect, to)})
	}
	if v.records > 0 {
		rep.First, rep.Last = from, v.expect-1
	}
	rep.Records, rep.Bytes, rep.HeadHash = v.records, v.bytes, v.prev
	return rep, nil
}

// checkFloor compares the durable retention floor with the oldest segment.
func (j *Journal) checkFloor(h *head) error {
	active := h.segs[len(h.segs)-1]
	var floor uint64
	err := active.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketJournal); b != nil {
			if v := b.Get(keyFloor); len(v) == 8 {
				floor = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if floor != 0 && floor < h.first() {
		return &CorruptionError{Segment: h.segs[0].name, Seq: floor,
			Reason: fmt.Sprintf("records %d..%d missing before the oldest segment (deleted outside retention)", floor, h.first()-1)}
	}
	return nil
}

type verifier struct {
	ctx      context.Context
	chain    *chainer
	from, to uint64
	expect   uint64
	prev     [32]byte
	havePrev bool
	lastTime int64
	records  uint64
	bytes    int64
	// progress, when set, hears how many records of total were checked.
	progress func(done, total uint64)
	total    uint64
}

// segment verifies the part of one segment within the range.
func (v *verifier) segment(tx *bolt.Tx, s *segment, active bool) error {
	info, err := readSegmentInfo(tx, s)
	if err != nil {
		return err
	}
	recs := tx.Bucket(bucketRecords)
	if s.first > v.expect {
		return &CorruptionError{Segment: s.name, Seq: v.expect,
			Reason: fmt.Sprintf("records %d..%d missing (segment deleted?)", v.expect, s.first-1)}
	}
	if !v.havePrev {
		if v.expect == s.first {
			v.prev = info.prev
		} else {
			pv := recs.Get(seqKey(v.expect - 1))
			if pv == nil {
				return &CorruptionError{Segment: s.name, Seq: v.expect - 1, Reason: "record missing"}
			}
			if err := checkRecord(v.expect-1, pv); err != nil {
				return &CorruptionError{Segment: s.name, Seq: v.expect - 1, Reason: err.Error()}
			}
			v.prev, v.lastTime = recordHash(pv), recordTime(pv)
		}
		v.havePrev = true
	} else if info.prev != v.prev {
		return &CorruptionError{Segment: s.name, Seq: s.first,
			Reason: fmt.Sprintf("segment meta previous hash %x does not match the previous record's hash %x", info.prev, v.prev)}
	}
	c := recs.Cursor()
	k, val := c.Seek(seqKey(v.expect))
	if k == nil && !active && v.expect <= v.to {
		return &CorruptionError{Segment: s.name, Seq: v.expect, Reason: "record missing (segment truncated?)"}
	}
	for ; k != nil; k, val = c.Next() {
		seq, ok := keySeq(k)
		if !ok {
			return &CorruptionError{Segment: s.name, Seq: v.expect, Reason: fmt.Sprintf("malformed key %x", k)}
		}
		if seq > v.to {
			return nil
		}
		if seq != v.expect {
			return &CorruptionError{Segment: s.name, Seq: v.expect,
				Reason: fmt.Sprintf("record missing (sequence gap: next stored is %d)", seq)}
		}
		if err := checkRecord(seq, val); err != nil {
			return &CorruptionError{Segment: s.name, Seq: seq, Reason: err.Error()}
		}
		if err := v.chain.checkLink(seq, val, &v.prev); err != nil {
			return &CorruptionError{Segment: s.name, Seq: seq, Reason: err.Error()}
		}
		if err := validatePayload(val); err != nil {
			return &CorruptionError{Segment: s.name, Seq: seq, Reason: "undecodable event", Err: err}
		}
		t := recordTime(val)
		if t < v.lastTime {
			return &CorruptionError{Segment: s.name, Seq: seq, Reason: "append time goes backwards"}
		}
		v.lastTime, v.prev = t, recordHash(val)
		v.expect++
		v.records++
		v.bytes += int64(keySize + len(val))
		if v.records%4096 == 0 {
			if err := v.ctx.Err(); err != nil {
				return err
			}
			if v.progress != nil {
				v.progress(v.records, v.total)
			}
		}
	}
	return nil
}
