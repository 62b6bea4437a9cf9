package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// tailCheckRecords is how many of the newest records Open checks.
const tailCheckRecords = 16

// errIncomplete marks a newest segment whose creating transaction never
// committed (a crash during rotation); it holds nothing and is moved
// aside (incompleteName).
var errIncomplete = errors.New("incomplete segment")

// incompleteName is the name an incomplete segment file is renamed to:
// recovery never deletes a segment file it cannot read.
func incompleteName(path string, now time.Time) string {
	return path + ".incomplete-" + now.UTC().Format("20060102T150405.000000000Z")
}

// recover loads the journal's state from the newest segment without
// reading older ones, creating the first segment of a new journal.
func (j *Journal) recover() error {
	firsts, err := listSegments(j.dir)
	if err != nil {
		return err
	}
	var (
		active *segment
		st     activeState
	)
	for len(firsts) > 0 {
		first := firsts[len(firsts)-1]
		s := newSegment(j.dir, first, j.opts.ReadOnly, j.handles)
		st, err = j.openNewest(s)
		if errors.Is(err, errIncomplete) {
			if len(firsts) == 1 && first != 1 {
				return &CorruptionError{Segment: s.name, Reason: "the only segment is incomplete and earlier segments are missing"}
			}
			aside := incompleteName(s.path, time.Now())
			j.log.Warn("journal: moving aside an incomplete segment left by an interrupted rotation",
				"segment", s.name, "to", filepath.Base(aside), "read_only", j.opts.ReadOnly)
			if !j.opts.ReadOnly {
				if err := os.Rename(s.path, aside); err != nil {
					return fmt.Errorf("move incomplete segment aside: %w", err)
				}
				if err := syncDir(j.dir); err != nil {
					return err
				}
			}
			firsts = firsts[:len(firsts)-1]
			continue
		}
		if err != nil {
			return err
		}
		active = s
		firsts = firsts[:len(firsts)-1]
		break
	}
	if active == nil {
		if j.opts.ReadOnly {
			return ErrNotFound
		}
		active, st, err = j.createFirstSegment()
		if err != nil {
			return err
		}
	}

	segs := make([]*segment, 0, len(firsts)+1)
	for i, first := range firsts {
		next := active.first
		if i+1 < len(firsts) {
			next = firsts[i+1]
		}
		s := newSegment(j.dir, first, j.opts.ReadOnly, j.handles)
		if next <= st.floor {
			// Retention recorded a floor past this segment but crashed
			// before unlinking it: finish the job.
			if !j.opts.ReadOnly {
				j.log.Info("journal: removing segment below the retention floor", "segment", s.name)
				if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("remove retained segment: %w", err)
				}
			}
			continue
		}
		s.size.Store(fileSize(s.path))
		segs = append(segs, s)
	}
	if len(segs) < len(firsts) && !j.opts.ReadOnly {
		if err := syncDir(j.dir); err != nil {
			return err
		}
	}
	j.loadSegmentCache(segs)
	segs = append(segs, active)
	if st.floor != 0 && segs[0].first > st.floor {
		j.log.Warn("journal: records below the oldest segment are missing; run verify",
			"floor", st.floor, "oldest", segs[0].first)
	}

	active.active.Store(true)
	j.handles.forget(active) // in case recovery's reads cached it
	j.c.active, j.c.db = active, st.db
	j.c.created = st.info.created.UnixNano()
	j.c.prev = st.info.prev
	j.c.logical, j.c.carried = st.logical, st.carried
	j.c.last, j.c.hash, j.c.lastTime = st.info.last, st.info.lastHash, st.info.lastTime
	j.c.floor = st.floor
	if j.c.floor == 0 {
		j.c.floor = segs[0].first
	}
	j.cursors = st.cursors
	j.dropped.Store(st.dropped)
	active.size.Store(fileSize(active.path))
	active.db = st.db
	j.publish(segs, st.info.last, st.info.lastHash)
	j.log.Info("journal: opened", "dir", j.dir, "segments", len(segs), "first", segs[0].first,
		"last", st.info.last, "read_only", j.opts.ReadOnly)
	return nil
}

// activeState is what Open learns from the newest segment.
type activeState struct {
	db      *bolt.DB
	info    segmentInfo
	cursors map[string]uint64
	floor   uint64
	dropped uint64
	logical int64
	carried int64
}

// openNewest opens the newest segment, checks its tail and loads the
// carried state (cursors, floor, dropped count).
func (j *Journal) openNewest(s *segment) (activeState, error) {
	st := activeState{cursors: make(map[string]uint64)}
	size := fileSize(s.path)
	if size == 0 {
		return st, errIncomplete
	}
	db, err := j.boltOpenActive(s.path, false)
	if err != nil {
		return st, judgeUnopenable(s, err)
	}
	if err := checkFileSize(db, size); err != nil {
		_ = db.Close()
		return st, &CorruptionError{Segment: s.name, Reason: err.Error()}
	}
	err = guard(s.name, func() error {
		return db.View(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketMeta) == nil && tx.Bucket(bucketRecords) == nil {
				if tx.ID() <= 1 { // nothing committed after bbolt's initialisation
					return errIncomplete
				}
				return &CorruptionError{Segment: s.name, Reason: fmt.Sprintf("segment has no buckets after %d transactions", tx.ID())}
			}
			var err error
			if st.info, err = readSegmentInfo(tx, s); err != nil {
				return err
			}
			st.logical, st.carried = tx.Size(), carriedBytes(tx)
			if err := checkTail(tx, s, st.info); err != nil {
				return err
			}
			return loadCarried(tx, s, &st)
		})
	})
	if err != nil {
		_ = db.Close()
		return st, err
	}
	st.db = db
	return st, nil
}

// judgeUnopenable classifies the failure to open the newest segment. A
// lack of resources (file descriptors, memory, a lock held elsewhere) is
// transient (ErrResources). Otherwise the file's own meta pages decide:
// bbolt's first write to a new file is four pages, and a crash during
// rotation can leave it torn, so a file that no valid meta shows to have
// committed a transaction after bbolt's initialisation, and that is no
// larger than four of its pages, is incomplete. When no meta page says the
// page size, the largest page size the journal creates (largePageSize)
// bounds it. Anything else is corruption: the file may hold acknowledged
// records, and Open refuses to start rather than discard them.
func judgeUnopenable(s *segment, err error) error {
	if isResourceError(err) {
		return resourceError(s.name, err)
	}
	bf, rerr := readBoltFile(s.path)
	if rerr != nil {
		if isResourceError(rerr) {
			return resourceError(s.name, rerr)
		}
		return &CorruptionError{Segment: s.name, Reason: "cannot open segment", Err: errors.Join(err, rerr)}
	}
	pageSize := int64(bf.pageSize)
	if pageSize == 0 {
		pageSize = largePageSize
	}
	if !bf.committed() && bf.size <= boltInitPages*pageSize {
		return errIncomplete
	}
	return &CorruptionError{Segment: s.name, Reason: fmt.Sprintf("cannot open segment (%d bytes, page size %d, committed %t)",
		bf.size, bf.pageSize, bf.committed()), Err: err}
}

// checkTail verifies the CRC, sequence and chain links of the newest
// records of s, and that its first record matches its meta.
func checkTail(tx *bolt.Tx, s *segment, info segmentInfo) error {
	c := tx.Bucket(bucketRecords).Cursor()
	k, _ := c.First()
	if k == nil {
		return nil
	}
	if seq, ok := keySeq(k); !ok || seq != s.first {
		return &CorruptionError{Segment: s.name, Seq: s.first, Reason: fmt.Sprintf("first key %x does not match the segment's first sequence", k)}
	}
	type kv struct {
		seq uint64
		v   []byte
	}
	var tail []kv
	for k, v := c.Last(); k != nil && len(tail) <= tailCheckRecords; k, v = c.Prev() {
		seq, ok := keySeq(k)
		if !ok {
			return &CorruptionError{Segment: s.name, Reason: fmt.Sprintf("malformed key %x", k)}
		}
		if len(tail) > 0 && seq != tail[len(tail)-1].seq-1 {
			return &CorruptionError{Segment: s.name, Seq: seq + 1, Reason: "record missing (sequence gap)"}
		}
		tail = append(tail, kv{seq, v})
	}
	chain := newChainer()
	for i := len(tail) - 1; i >= 0; i-- {
		r := tail[i]
		if err := checkRecord(r.seq, r.v); err != nil {
			return &CorruptionError{Segment: s.name, Seq: r.seq, Reason: err.Error()}
		}
		var prev [32]byte
		switch {
		case r.seq == s.first:
			prev = info.prev
		case i < len(tail)-1:
			prev = recordHash(tail[i+1].v)
		default:
			continue // the oldest record read only anchors the next link
		}
		if err := chain.checkLink(r.seq, r.v, &prev); err != nil {
			return &CorruptionError{Segment: s.name, Seq: r.seq, Reason: err.Error()}
		}
		if err := validatePayload(r.v); err != nil {
			return &CorruptionError{Segment: s.name, Seq: r.seq, Reason: "undecodable event", Err: err}
		}
	}
	return nil
}

// loadCarried reads the buckets carried from segment to segment.
func loadCarried(tx *bolt.Tx, s *segment, st *activeState) error {
	if b := tx.Bucket(bucketCursors); b != nil {
		err := b.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return &CorruptionError{Segment: s.name, Reason: fmt.Sprintf("cursor %q has a malformed value", k)}
			}
			st.cursors[string(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if b := tx.Bucket(bucketJournal); b != nil {
		if v := b.Get(keyFloor); len(v) == 8 {
			st.floor = binary.BigEndian.Uint64(v)
		}
		if v := b.Get(keyDropped); len(v) == 8 {
			st.dropped = binary.BigEndian.Uint64(v)
		}
	}
	return nil
}

// createFirstSegment starts a new journal with segment 1.
func (j *Journal) createFirstSegment() (*segment, activeState, error) {
	s := newSegment(j.dir, 1, false, j.handles)
	db, err := j.boltOpenActive(s.path, true)
	if err != nil {
		return nil, activeState{}, fmt.Errorf("create segment: %w", err)
	}
	created := nanos(j.now())
	err = db.Update(func(tx *bolt.Tx) error {
		if err := writeSegmentMeta(tx, 1, [32]byte{}, created); err != nil {
			return err
		}
		return tx.Bucket(bucketJournal).Put(keyFloor, be64(1))
	})
	if err == nil {
		err = syncDir(j.dir)
	}
	if err != nil {
		_ = db.Close()
		_ = os.Remove(s.path)
		return nil, activeState{}, fmt.Errorf("create segment: %w", err)
	}
	j.log.Info("journal: created", "dir", j.dir)
	st := activeState{db: db, info: segmentInfo{created: created}, cursors: make(map[string]uint64), floor: 1}
	return s, st, nil
}
