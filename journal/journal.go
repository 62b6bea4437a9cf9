package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// Journal is a durable, segmented event log in a directory of bbolt files.
// It implements pipeline.Journal; see the package documentation for the
// format and guarantees. All methods are safe for concurrent use.
type Journal struct {
	dir   string
	opts  Options
	log   *slog.Logger
	clock pipeline.Clock
	tel   *telemetry
	lock  *dirLock

	mmapSize  int
	allocSize int
	pageSize  int // for new segments; 0 means the OS page size

	// head is the published state readers work from.
	head atomic.Pointer[head]

	closing   chan struct{} // closed by Close
	done      chan struct{} // closed when the committer has exited
	closeOnce sync.Once
	closeErr  error

	// The append queue, drained by the committer.
	qmu     sync.Mutex
	queue   []*request
	spare   []*request
	qbytes  int // bytes of the queued requests
	qtarget int // queue length at which appenders wake a waiting committer
	stopped bool
	wake    chan struct{}

	// Cursors in memory; dirty names are written by the next transaction.
	cmu     sync.Mutex
	cursors map[string]uint64
	dirty   map[string]struct{}
	cstate  consumerStates // state committed with the cursors (consumerstate.go)

	dropped atomic.Uint64

	dl *deadLetterStore // dead letters, in a file of their own (deadletters.go)

	handles  *handleCache // bounds open sealed segments (handles.go)
	refusing atomic.Bool  // writes refused after a failed commit (fault.go)

	c committer // owned by the committer goroutine (and Open before it)
}

var _ pipeline.Journal = (*Journal)(nil)

// head is an immutable snapshot of the journal's extent. A new one is
// published after every commit, rotation and retention, and the previous
// one's notify channel is closed, which wakes blocked readers.
type head struct {
	segs   []*segment // oldest first; the last one is the active segment
	last   uint64     // newest sequence, 0 when nothing was ever appended
	hash   [32]byte   // chain hash of last
	notify chan struct{}
}

// first returns the oldest retained sequence (last+1 when empty).
func (h *head) first() uint64 { return h.segs[0].first }

// Open opens the journal in dir, creating it (mode 0700) unless
// opts.ReadOnly. It takes dir/LOCK exclusively (shared when read-only); if
// another process or Open holds it, Open fails at once with ErrInUse. Open
// reads only the newest segment: it removes a segment left incomplete by a
// crash during rotation and checks the last records' CRC and chain links,
// returning a *CorruptionError if they are damaged. Older segments are
// opened on first use.
func Open(dir string, opts Options) (*Journal, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", dir, err)
	}
	opts = opts.withDefaults()
	if opts.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("open journal %s: %w", dir, ErrNotFound)
			}
			return nil, fmt.Errorf("open journal %s: %w", dir, err)
		}
	} else if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", dir, err)
	}
	lock, err := lockDir(dir, opts.ReadOnly)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", dir, err)
	}
	j := &Journal{
		dir:     dir,
		opts:    opts,
		log:     opts.Logger,
		clock:   opts.Clock,
		lock:    lock,
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		cursors: make(map[string]uint64),
		dirty:   make(map[string]struct{}),
		handles: newHandleCache(opts.MaxOpenSegments),
	}
	j.allocSize = int(min(max(opts.SegmentMaxBytes/8, 16<<10), 16<<20))
	j.mmapSize = int(opts.SegmentMaxBytes) + 2*opts.MaxBatchBytes + j.allocSize
	if opts.SegmentMaxBytes >= largePageMinSegment {
		j.pageSize = largePageSize
	}
	j.c.chain = newChainer()
	if err := j.recover(); err != nil {
		j.closeSegments()
		_ = lock.release()
		return nil, fmt.Errorf("open journal %s: %w", dir, err)
	}
	if err := j.loadConsumerStates(); err != nil {
		j.closeSegments()
		_ = lock.release()
		return nil, fmt.Errorf("open journal %s: consumer state: %w", dir, err)
	}
	j.tel, err = newTelemetry(opts, j.observe, func() (bool, int) { return j.refusing.Load(), j.handles.open() })
	if err != nil {
		j.closeSegments()
		_ = lock.release()
		return nil, fmt.Errorf("open journal %s: telemetry: %w", dir, err)
	}
	if j.dl, err = openDeadLetters(dir, opts.ReadOnly); err != nil {
		j.tel.shutdown()
		j.closeSegments()
		_ = lock.release()
		return nil, fmt.Errorf("open journal %s: %w", dir, err)
	}
	if opts.ReadOnly {
		close(j.done)
	} else {
		go j.run()
	}
	return j, nil
}

// Dir returns the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// publish installs a new head and wakes readers blocked on the old one.
func (j *Journal) publish(segs []*segment, last uint64, hash [32]byte) {
	old := j.head.Swap(&head{segs: segs, last: last, hash: hash, notify: make(chan struct{})})
	if old != nil {
		close(old.notify)
	}
}

func (j *Journal) isClosed() bool {
	select {
	case <-j.closing:
		return true
	default:
		return false
	}
}

// Close flushes pending cursor commits, commits appends already handed to
// the committer, waits for in-flight reads, closes every segment and
// releases the lock. Blocked readers return pipeline.ErrJournalClosed.
// Close is idempotent; later calls return the first call's result. It
// waits for the in-flight commit regardless of ctx (that is bounded by one
// transaction), so ctx is unused.
func (j *Journal) Close(_ context.Context) error {
	j.closeOnce.Do(func() {
		close(j.closing)
		<-j.done
		j.saveSegmentCache()
		j.closeSegments()
		if err := j.dl.close(); err != nil {
			j.closeErr = fmt.Errorf("close journal: %w", err)
		}
		j.tel.shutdown()
		if err := j.lock.release(); err != nil && j.closeErr == nil {
			j.closeErr = fmt.Errorf("close journal: %w", err)
		}
	})
	return j.closeErr
}

// closeSegments retires every segment and waits until readers let go.
func (j *Journal) closeSegments() {
	h := j.head.Load()
	if h == nil {
		if j.c.db != nil {
			_ = j.c.db.Close()
		}
		return
	}
	for _, s := range h.segs {
		s.retire()
	}
	for _, s := range h.segs {
		<-s.closed
	}
}

// observe feeds the segments and size gauges.
func (j *Journal) observe() (int, int64) {
	h := j.head.Load()
	var n int64
	for _, s := range h.segs {
		n += s.size.Load()
	}
	return len(h.segs), n
}

// usedBytes is the disk space of all segment files.
func (j *Journal) usedBytes() int64 {
	_, n := j.observe()
	return n
}

// Stats reports the journal's extent, size, segments and cursors. A sealed
// segment's creation time comes from the segment cache (segmentcache.go);
// only segments it does not know are opened, within
// Options.MaxOpenSegments.
func (j *Journal) Stats(ctx context.Context) (pipeline.JournalStats, error) {
	if j.isClosed() {
		return pipeline.JournalStats{}, pipeline.ErrJournalClosed
	}
	h := j.head.Load()
	st := pipeline.JournalStats{
		HeadHash: h.hash,
		Dropped:  j.dropped.Load(),
		Cursors:  make(map[string]uint64),
	}
	if h.last >= h.first() {
		st.First, st.Last = h.first(), h.last
	}
	for i, s := range h.segs {
		if err := ctx.Err(); err != nil {
			return pipeline.JournalStats{}, err
		}
		ss := pipeline.SegmentStats{Name: s.name, First: s.first, Bytes: s.size.Load()}
		if i == len(h.segs)-1 {
			ss.Last = h.last
		} else {
			ss.Last = h.segs[i+1].first - 1
		}
		info, err := s.loadInfo()
		if errors.Is(err, errSegmentGone) {
			continue
		}
		if err != nil {
			return pipeline.JournalStats{}, fmt.Errorf("journal stats: %w", err)
		}
		ss.Created = info.created
		st.Bytes += ss.Bytes
		st.Segments = append(st.Segments, ss)
	}
	j.cmu.Lock()
	for k, v := range j.cursors {
		st.Cursors[k] = max(v, h.first())
	}
	j.cmu.Unlock()
	return st, nil
}

// now returns the clock's time in unix nanoseconds.
func (j *Journal) now() int64 { return j.clock.Now().UnixNano() }

// boltOpenActive opens the writable active segment.
func (j *Journal) boltOpenActive(path string, create bool) (*bolt.DB, error) {
	o := boltOptions(j.opts.ReadOnly, j.mmapSize, j.pageSize)
	if j.opts.ReadOnly {
		o.InitialMmapSize = 0
	}
	if create {
		o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
			return os.OpenFile(name, flag|os.O_EXCL, perm)
		}
	}
	db, err := bolt.Open(path, fileMode, o)
	if err != nil {
		return nil, err
	}
	db.AllocSize = j.allocSize
	return db, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func nanos(t int64) time.Time { return time.Unix(0, t).UTC() }
