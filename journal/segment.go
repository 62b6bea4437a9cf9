package journal

import (
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Segment files are named by their first sequence, zero-padded so that
// lexical order is sequence order.
const (
	segmentExt     = ".seg"
	segmentNameLen = 20
	segmentFormat  = 1
	fileMode       = 0o600
	dirMode        = 0o700
)

// Buckets and keys of a segment file (see doc.go).
var (
	bucketMeta    = []byte("meta")
	bucketRecords = []byte("records")
	bucketCursors = []byte("cursors")
	bucketState   = []byte("state")
	bucketJournal = []byte("journal")

	keyFormat  = []byte("format")
	keyFirst   = []byte("first")
	keyPrev    = []byte("prev")
	keyCreated = []byte("created")
	keyDropped = []byte("dropped")
	keyFloor   = []byte("floor")
)

func segmentName(first uint64) string {
	return fmt.Sprintf("%0*d%s", segmentNameLen, first, segmentExt)
}

func parseSegmentName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(base) != segmentNameLen {
		return 0, false
	}
	first, err := strconv.ParseUint(base, 10, 64)
	if err != nil || first == 0 {
		return 0, false
	}
	return first, true
}

// errSegmentGone is returned by acquire for a segment that retention
// removed; callers reload the segment list and retry.
var errSegmentGone = errors.New("segment removed")

// segment is one bbolt file. Its bbolt handle is opened lazily for sealed
// segments and shared by readers through acquire/release, so retention can
// retire a segment while a reader still uses it.
type segment struct {
	name  string
	path  string
	first uint64
	size  atomic.Int64 // file size in bytes

	mu     sync.Mutex
	db     *bolt.DB
	refs   int
	gone   bool
	closed chan struct{} // closed once gone and the handle is closed

	// The active segment's handle while the committer reopens it after a
	// failed commit (fault.go): acquires wait for reopen to close, then
	// fail with down if the reopen failed.
	reopen chan struct{}
	down   error

	cache *handleCache  // bounds open sealed handles; nil for none
	elem  *list.Element // in cache.lru, guarded by cache.mu
	// active is set while the committer writes through the segment's
	// handle: the cache never holds (and so never closes) it.
	active atomic.Bool
	res    residency // bytes read since its pages were dropped (residency.go)

	// Cached once known; a sealed segment never changes.
	infoOK   bool
	info     segmentInfo
	readOnly bool
}

// segmentInfo is what a segment's meta and last record say.
type segmentInfo struct {
	created  time.Time
	prev     [32]byte // chain hash before the segment's first record
	last     uint64   // last sequence; first-1 when empty
	lastTime int64    // append time of the last record, unix nanos
	lastHash [32]byte
}

func newSegment(dir string, first uint64, readOnly bool, cache *handleCache) *segment {
	name := segmentName(first)
	return &segment{
		name:     name,
		path:     filepath.Join(dir, name),
		first:    first,
		closed:   make(chan struct{}),
		readOnly: readOnly,
		cache:    cache,
	}
}

// largePageSize is the bbolt page size of new segments of at least
// largePageMinSegment bytes. Records are appended in order and read in
// runs, so pages larger than the OS's 4 KiB mean fewer pages to split,
// spill and write per group commit (bbolt issues one write per page).
// Small segments keep the OS page size so their files stay small. Existing
// files keep the page size they were created with.
const (
	largePageSize       = 16 << 10
	largePageMinSegment = 16 << 20
)

// boltOptions returns the bbolt options for a segment: the active one is
// mapped large enough never to remap (a remap waits for every reader).
func boltOptions(readOnly bool, mmapSize, pageSize int) *bolt.Options {
	return &bolt.Options{
		Timeout:         time.Second,
		FreelistType:    bolt.FreelistMapType,
		ReadOnly:        readOnly,
		InitialMmapSize: mmapSize,
		PageSize:        pageSize,
	}
}

// openSealed opens a segment for reading.
func (s *segment) openSealed() (*bolt.DB, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return nil, err
	}
	s.size.Store(fi.Size())
	db, err := bolt.Open(s.path, fileMode, boltOptions(true, 0, 0))
	if isResourceError(err) {
		return nil, resourceError(s.name, err)
	}
	if err != nil {
		return nil, &CorruptionError{Segment: s.name, Reason: "cannot open segment", Err: err}
	}
	if err := checkFileSize(db, fi.Size()); err != nil {
		_ = db.Close()
		return nil, &CorruptionError{Segment: s.name, Reason: err.Error()}
	}
	adviseSequential(db)
	return db, nil
}

// checkFileSize rejects a file shorter than its bbolt meta says, which
// would fault when the missing pages are touched.
func checkFileSize(db *bolt.DB, fileSize int64) error {
	return db.View(func(tx *bolt.Tx) error {
		if tx.Size() > fileSize {
			return fmt.Errorf("segment truncated: file has %d bytes, database needs %d", fileSize, tx.Size())
		}
		return nil
	})
}

// acquire returns the segment's handle, opening it if needed, and pins it
// until release.
func (s *segment) acquire() (*bolt.DB, error) {
	s.mu.Lock()
	for s.reopen != nil {
		ch := s.reopen
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
	if s.gone {
		s.mu.Unlock()
		return nil, errSegmentGone
	}
	if s.down != nil {
		err := s.down
		s.mu.Unlock()
		return nil, err
	}
	opened := false
	if s.db == nil {
		db, err := s.openSealed()
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.db, opened = db, true
	}
	s.refs++
	db := s.db
	s.mu.Unlock()
	s.cache.used(s, opened)
	return db, nil
}

func (s *segment) release() {
	s.mu.Lock()
	s.refs--
	db := s.closeIfIdleLocked()
	s.mu.Unlock()
	if db != nil {
		closeDB(db, s.closed)
	}
}

// retire stops new acquires and closes the handle once no reader holds it.
func (s *segment) retire() {
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		return
	}
	s.gone = true
	db := s.closeIfIdleLocked()
	neverOpened := s.refs == 0 && db == nil
	s.mu.Unlock()
	s.cache.forget(s)
	if db != nil || neverOpened {
		closeDB(db, s.closed)
	}
}

// closeIfIdleLocked detaches the handle of a retired segment with no
// readers; the caller closes it (and s.closed) outside the lock. Exactly
// one caller gets the handle, so s.closed is closed once.
func (s *segment) closeIfIdleLocked() *bolt.DB {
	if !s.gone || s.refs > 0 || s.db == nil {
		return nil
	}
	db := s.db
	s.db = nil
	return db
}

func closeDB(db *bolt.DB, done chan struct{}) {
	if db != nil {
		_ = db.Close()
	}
	close(done)
}

// view runs fn in a read transaction of the segment. bbolt can panic, or
// fault on a damaged file; both become a *CorruptionError instead of
// crashing the process.
func (s *segment) view(fn func(tx *bolt.Tx) error) (err error) {
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	return guard(s.name, func() error { return db.View(fn) })
}

// guard runs fn turning panics and memory faults into a *CorruptionError.
func guard(segName string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = &CorruptionError{Segment: segName, Reason: fmt.Sprintf("bbolt failure reading segment: %v", r)}
		}
	}()
	return fn()
}

// loadInfo reads and caches the segment's meta and last record.
func (s *segment) loadInfo() (segmentInfo, error) {
	s.mu.Lock()
	if s.infoOK {
		info := s.info
		s.mu.Unlock()
		return info, nil
	}
	s.mu.Unlock()
	var info segmentInfo
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		info, err = readSegmentInfo(tx, s)
		return err
	})
	if err != nil {
		return segmentInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.infoOK { // the committer's setInfo at sealing wins over a racing read
		s.info, s.infoOK = info, true
	}
	return s.info, nil
}

// setInfo records a segment's final info when the committer seals it.
func (s *segment) setInfo(info segmentInfo) {
	s.mu.Lock()
	s.info, s.infoOK = info, true
	s.mu.Unlock()
}

// readSegmentInfo reads the meta bucket and the last record of a segment.
func readSegmentInfo(tx *bolt.Tx, s *segment) (segmentInfo, error) {
	var info segmentInfo
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return info, &CorruptionError{Segment: s.name, Reason: "segment has no meta bucket"}
	}
	if f := meta.Get(keyFormat); len(f) != 1 || f[0] != segmentFormat {
		return info, &CorruptionError{Segment: s.name, Reason: fmt.Sprintf("unknown segment format %v", f)}
	}
	first, prev, created := meta.Get(keyFirst), meta.Get(keyPrev), meta.Get(keyCreated)
	if len(first) != 8 || len(prev) != 32 || len(created) != 8 {
		return info, &CorruptionError{Segment: s.name, Reason: "segment meta incomplete"}
	}
	if got := binary.BigEndian.Uint64(first); got != s.first {
		return info, &CorruptionError{Segment: s.name, Reason: fmt.Sprintf("meta first sequence %d does not match the file name", got)}
	}
	info.prev = [32]byte(prev)
	info.created = time.Unix(0, int64(binary.BigEndian.Uint64(created))).UTC()
	info.last = s.first - 1
	info.lastHash = info.prev
	recs := tx.Bucket(bucketRecords)
	if recs == nil {
		return info, &CorruptionError{Segment: s.name, Reason: "segment has no records bucket"}
	}
	k, v := recs.Cursor().Last()
	if k == nil {
		return info, nil
	}
	seq, ok := keySeq(k)
	if !ok || seq < s.first {
		return info, &CorruptionError{Segment: s.name, Reason: fmt.Sprintf("malformed last key %x", k)}
	}
	if err := checkRecord(seq, v); err != nil {
		return info, &CorruptionError{Segment: s.name, Seq: seq, Reason: err.Error()}
	}
	info.last, info.lastTime, info.lastHash = seq, recordTime(v), recordHash(v)
	return info, nil
}

// listSegments returns the sequences of the segment files in dir, sorted.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var firsts []uint64
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)
	return firsts, nil
}

// writeSegmentMeta creates a new segment's buckets and meta in tx.
func writeSegmentMeta(tx *bolt.Tx, first uint64, prev [32]byte, created time.Time) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	for _, b := range [][]byte{bucketRecords, bucketCursors, bucketState, bucketJournal} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	puts := []struct{ k, v []byte }{
		{keyFormat, []byte{segmentFormat}},
		{keyFirst, be64(first)},
		{keyPrev, prev[:]},
		{keyCreated, be64(uint64(created.UnixNano()))},
	}
	for _, p := range puts {
		if err := meta.Put(p.k, p.v); err != nil {
			return err
		}
	}
	return nil
}

func be64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// syncDir fsyncs a directory so that created and removed entries are
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
