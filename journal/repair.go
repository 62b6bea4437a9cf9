package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RepairOptions tunes Repair.
type RepairOptions struct {
	// DryRun finds the damage and reports the plan without changing
	// anything.
	DryRun bool
	// Now names the backup directory; nil means time.Now.
	Now func() time.Time
	// Logger receives what Repair does; nil discards.
	Logger *slog.Logger
	// Progress, when set, is called every 4096 records checked with how
	// many were and about how many the journal holds (0 when not known).
	Progress func(done, total uint64)
}

// RepairReport says what Repair found and did.
type RepairReport struct {
	// Damage is the first problem found; nil when the journal is intact.
	Damage *CorruptionError
	// LastGood is the last record kept (0 when none is).
	LastGood uint64
	// Backup is the directory the damaged segment files were copied to,
	// and Copied their names.
	Backup string
	Copied []string
	// Removed lists the segment files removed after being copied, and
	// Rewritten the one truncated to LastGood (empty if none).
	Removed   []string
	Rewritten string
	// FloorRaised is set when records were missing before the oldest
	// segment (deleted outside retention): the retention floor is raised
	// to the oldest segment, since those records cannot come back.
	FloorRaised uint64
	// Repaired is true when the journal was changed.
	Repaired bool
}

// Repair makes a damaged journal usable again: it checks the whole journal
// as Verify does and, at the first bad or missing record, copies the
// segment holding it and every later segment into dir/repair-TIME/, then
// truncates the journal to the last good record before it (rewriting that
// segment without the bad records, or removing it when none of it is
// good) and removes the later segments. Records after the damage are
// lost from the journal (they stay in the copies). Cursors past the new
// head are moved back to it, so sinks deliver from there on. Records
// missing before the oldest segment are acknowledged by raising the
// retention floor. The journal must not be open: Repair takes the
// directory's lock and fails with ErrInUse if the engine runs.
func Repair(ctx context.Context, dir string, opts RepairOptions) (RepairReport, error) {
	var rep RepairReport
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return rep, fmt.Errorf("repair %s: %w", dir, ErrNotFound)
		}
		return rep, fmt.Errorf("repair %s: %w", dir, err)
	}
	lock, err := lockDir(dir, false)
	if err != nil {
		return rep, fmt.Errorf("repair %s: %w", dir, err)
	}
	defer func() { _ = lock.release() }()
	firsts, err := listSegments(dir)
	if err != nil {
		return rep, fmt.Errorf("repair %s: %w", dir, err)
	}
	if len(firsts) == 0 {
		return rep, fmt.Errorf("repair %s: %w", dir, ErrNotFound)
	}
	segs := make([]*segment, len(firsts))
	cache := newHandleCache(DefaultMaxOpenSegments)
	for i, f := range firsts {
		segs[i] = newSegment(dir, f, true, cache)
	}
	defer func() {
		for _, s := range segs {
			s.retire()
		}
	}()
	oldFloor := readFloor(segs[len(segs)-1])
	if floor := oldFloor; floor != 0 && floor < firsts[0] {
		rep.FloorRaised = firsts[0]
		rep.Damage = &CorruptionError{Segment: segs[0].name, Seq: floor,
			Reason: fmt.Sprintf("records %d..%d missing before the oldest segment (deleted outside retention)", floor, firsts[0]-1)}
	}
	cursors := readCursors(segs[len(segs)-1])
	bad, k, err := findDamage(ctx, segs, opts.Progress)
	if err != nil {
		return rep, fmt.Errorf("repair %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if bad == nil {
		if rep.FloorRaised != 0 && !opts.DryRun {
			if err := updateNewest(segs[len(segs)-1], rep.FloorRaised, nil, 0); err != nil {
				return rep, fmt.Errorf("repair %s: %w", dir, err)
			}
			rep.Repaired = true
			opts.Logger.Warn("journal repair: raised the retention floor over missing records", "floor", rep.FloorRaised)
		}
		return rep, nil
	}
	rep.Damage = bad
	rep.LastGood = bad.Seq - 1
	if rep.LastGood < firsts[0] {
		rep.LastGood = 0
	}
	if opts.DryRun {
		return rep, nil
	}
	if k == 0 && bad.Seq <= firsts[0] {
		return rep, fmt.Errorf("repair %s: the oldest segment's first record is damaged: nothing before it to keep (%w)", dir, bad)
	}
	_ = os.Remove(filepath.Join(dir, segmentCacheFile)) // rebuilt by the next Open's use
	rep.Backup = filepath.Join(dir, "repair-"+opts.Now().UTC().Format("20060102T150405Z"))
	if err := os.Mkdir(rep.Backup, dirMode); err != nil {
		return rep, fmt.Errorf("repair %s: backup: %w", dir, err)
	}
	for _, s := range segs[k:] {
		s.retire() // close handles before copying and changing files
		<-s.closed
		if err := copyFile(s.path, filepath.Join(rep.Backup, s.name)); err != nil {
			return rep, fmt.Errorf("repair %s: backup %s: %w", dir, s.name, err)
		}
		rep.Copied = append(rep.Copied, s.name)
	}
	if err := syncDir(rep.Backup); err != nil {
		return rep, fmt.Errorf("repair %s: backup: %w", dir, err)
	}
	remove := segs[k+1:]
	if bad.Seq > segs[k].first {
		if err := rewriteSegment(segs[k], bad.Seq); err != nil {
			if k == 0 {
				return rep, fmt.Errorf("repair %s: rewrite the oldest segment: %w", dir, err)
			}
			opts.Logger.Warn("journal repair: cannot rewrite the damaged segment; removing it", "segment", segs[k].name, "error", err)
			remove = segs[k:]
			rep.LastGood = segs[k].first - 1
		} else {
			rep.Rewritten = segs[k].name
		}
	} else {
		remove = segs[k:]
	}
	for i := len(remove) - 1; i >= 0; i-- {
		if err := os.Remove(remove[i].path); err != nil {
			return rep, fmt.Errorf("repair %s: %w", dir, err)
		}
		rep.Removed = append(rep.Removed, remove[i].name)
	}
	if err := syncDir(dir); err != nil {
		return rep, fmt.Errorf("repair %s: %w", dir, err)
	}
	newest := k
	if rep.Rewritten == "" {
		newest = k - 1
	}
	// The segment that becomes the newest carries the floor from when it
	// was active, which may be stale: write the current one.
	if err := updateNewest(segs[newest], max(oldFloor, firsts[0]), cursors, rep.LastGood+1); err != nil {
		return rep, fmt.Errorf("repair %s: %w", dir, err)
	}
	rep.Repaired = true
	opts.Logger.Warn("journal repair: truncated to the last good record", "last_good", rep.LastGood,
		"damage", bad.Error(), "backup", rep.Backup)
	return rep, nil
}

// findDamage verifies segs in order like Verify and returns the first
// problem and the index of the segment holding it. A lack of resources
// (ErrResources) is returned as an error, never taken for damage.
func findDamage(ctx context.Context, segs []*segment, progress func(done, total uint64)) (*CorruptionError, int, error) {
	v := verifier{ctx: ctx, chain: newChainer(), expect: segs[0].first, from: segs[0].first, to: math.MaxUint64, progress: progress}
	if last := lastStoredSeq(segs[len(segs)-1]); last >= segs[0].first {
		v.total = last - segs[0].first + 1
	}
	for i, s := range segs {
		if s.first > v.expect {
			return &CorruptionError{Segment: s.name, Seq: v.expect,
				Reason: fmt.Sprintf("records %d..%d missing (segment deleted?)", v.expect, s.first-1)}, max(i-1, 0), nil
		}
		err := s.view(func(tx *bolt.Tx) error { return v.segment(tx, s, i == len(segs)-1) })
		if err == nil {
			continue
		}
		if errors.Is(err, ErrResources) {
			return nil, 0, err
		}
		var ce *CorruptionError
		if !errors.As(err, &ce) {
			ce = &CorruptionError{Segment: s.name, Reason: "cannot read segment", Err: err}
		}
		if ce.Segment == "" {
			ce.Segment = s.name
		}
		if ce.Seq == 0 {
			ce.Seq = max(v.expect, s.first)
		}
		if ce.Seq < s.first { // the previous segment's last record
			return ce, max(i-1, 0), nil
		}
		return ce, i, nil
	}
	return nil, 0, nil
}

// lastStoredSeq returns the sequence of the last record stored in s, 0
// if it cannot be read.
func lastStoredSeq(s *segment) uint64 {
	var last uint64
	_ = s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRecords); b != nil {
			if k, _ := b.Cursor().Last(); k != nil {
				last, _ = keySeq(k)
			}
		}
		return nil
	})
	return last
}

// readFloor returns the retention floor recorded in the newest segment,
// 0 if it cannot be read.
func readFloor(s *segment) uint64 {
	var floor uint64
	_ = s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketJournal); b != nil {
			if v := b.Get(keyFloor); len(v) == 8 {
				floor = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return floor
}

// readCursors returns the cursors recorded in s (the newest segment, whose
// cursors are authoritative), nil if they cannot be read.
func readCursors(s *segment) map[string]uint64 {
	cursors := map[string]uint64{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCursors)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				cursors[string(k)] = binary.BigEndian.Uint64(v)
			}
			return nil
		})
	})
	if err != nil {
		return nil
	}
	return cursors
}

// updateNewest writes into s, the newest segment after a repair, the
// raised floor (if not 0) and the cursors carried from the old newest
// segment, none past next.
func updateNewest(s *segment, floor uint64, cursors map[string]uint64, next uint64) error {
	s.retire()
	<-s.closed
	db, err := bolt.Open(s.path, fileMode, boltOptions(false, 0, 0))
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if floor != 0 {
			b, err := tx.CreateBucketIfNotExists(bucketJournal)
			if err != nil {
				return err
			}
			if err := b.Put(keyFloor, be64(floor)); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucketIfNotExists(bucketCursors)
		if err != nil {
			return err
		}
		for name, v := range cursors {
			if err := b.Put([]byte(name), be64(min(v, next))); err != nil {
				return err
			}
		}
		return nil
	})
	return errors.Join(err, db.Close())
}

// rewriteSegment replaces s with a copy holding its meta, carried
// buckets and records before end; cursors past end are moved back to it.
func rewriteSegment(s *segment, end uint64) error {
	tmp := s.path + ".repair"
	_ = os.Remove(tmp)
	src, err := bolt.Open(s.path, fileMode, boltOptions(true, 0, 0))
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	dst, err := bolt.Open(tmp, fileMode, boltOptions(false, 0, 0))
	if err != nil {
		return err
	}
	err = guard(s.name, func() error {
		return src.View(func(stx *bolt.Tx) error {
			return dst.Update(func(dtx *bolt.Tx) error { return copySegment(stx, dtx, s.first, end) })
		})
	})
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, s.path)
}

func copySegment(stx, dtx *bolt.Tx, first, end uint64) error {
	for _, name := range [][]byte{bucketMeta, bucketCursors, bucketState, bucketJournal, bucketConsumers} {
		sb := stx.Bucket(name)
		db, err := dtx.CreateBucket(name)
		if err != nil {
			return err
		}
		if sb == nil {
			if string(name) == string(bucketMeta) {
				return errors.New("segment has no meta bucket")
			}
			continue
		}
		if err := copyBucket(sb, db); err != nil {
			return err
		}
	}
	cursors := dtx.Bucket(bucketCursors)
	err := cursors.ForEach(func(k, v []byte) error {
		if len(v) == 8 && binary.BigEndian.Uint64(v) > end {
			return cursors.Put(k, be64(end))
		}
		return nil
	})
	if err != nil {
		return err
	}
	recs, err := dtx.CreateBucket(bucketRecords)
	if err != nil {
		return err
	}
	recs.FillPercent = 1.0
	sr := stx.Bucket(bucketRecords)
	if sr == nil {
		return errors.New("segment has no records bucket")
	}
	c := sr.Cursor()
	for k, v := c.Seek(seqKey(first)); k != nil; k, v = c.Next() {
		if seq, ok := keySeq(k); !ok || seq >= end {
			break
		}
		if err := recs.Put(append([]byte(nil), k...), append([]byte(nil), v...)); err != nil {
			return err
		}
	}
	return nil
}

// copyBucket copies src's keys and nested buckets into dst.
func copyBucket(src, dst *bolt.Bucket) error {
	return src.ForEach(func(k, v []byte) error {
		if v == nil {
			sub, err := dst.CreateBucket(k)
			if err != nil {
				return err
			}
			return copyBucket(src.Bucket(k), sub)
		}
		return dst.Put(append([]byte(nil), k...), append([]byte(nil), v...))
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	return errors.Join(err, out.Close())
}
