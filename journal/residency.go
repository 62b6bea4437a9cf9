package journal

import (
	"sort"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// Resident memory of segment mappings.
//
// bbolt reads through a shared, read-only memory map of each segment, and
// every page a reader touches stays resident in the process (counted in
// its RSS as file-backed memory) for as long as the file is mapped, even
// though the page cache would keep it anyway. A sink draining a backlog
// would thus grow the engine by every segment it reads. So the journal
// drops a segment's pages from the process (madvise MADV_DONTNEED; the
// page cache keeps them, a later touch maps them again without I/O) after
// every dropEvery bytes read from it and when a reader has read it to its
// end, and closes sealed segments every registered cursor has passed
// (closeBehind). What stays resident per segment is then about dropEvery
// plus one read, whatever the backlog.
//
// bbolt advises its maps MADV_RANDOM, which turns off readahead: reading a
// sealed segment from a cold cache then costs one synchronous disk read
// per 4 KiB page. Sealed segments are read in runs (a sink drains them in
// order), so their maps are advised MADV_SEQUENTIAL when opened.

// dropEvery is how many bytes a segment's readers read between drops of
// its resident pages.
const dropEvery = 4 << 20

// residency counts the bytes read from one segment since its pages were
// last dropped.
type residency struct {
	since atomic.Int64
}

// read notes n bytes read in tx, a read transaction of the segment, and
// drops the segment's resident pages once dropEvery bytes were read since
// the last drop, or when end says the reader has read the segment to its
// end. It must run inside tx: an open transaction pins the map (bbolt
// remaps only under its exclusive mmap lock, and the handle is not closed
// while a transaction or the caller's acquire holds it).
func (r *residency) read(tx *bolt.Tx, n int, end bool) {
	if r.since.Add(int64(n)) < dropEvery && !end {
		return
	}
	r.since.Store(0)
	dropResident(tx)
}

// dropResident unmaps tx's database pages from the process
// (MADV_DONTNEED on a shared file map keeps the data: the next touch maps
// the page cache's copy again). Errors are ignored: it is an optimisation.
func dropResident(tx *bolt.Tx) {
	adviseMap(tx, unix.MADV_DONTNEED)
}

// dropPages drops the segment's resident pages.
func (s *segment) dropPages() {
	_ = s.view(func(tx *bolt.Tx) error {
		dropResident(tx)
		return nil
	})
}

// adviseSequential asks for readahead on a sealed segment's map.
func adviseSequential(db *bolt.DB) {
	_ = db.View(func(tx *bolt.Tx) error {
		adviseMap(tx, unix.MADV_SEQUENTIAL)
		return nil
	})
}

// adviseMap applies advice to the mapped pages of tx's database, within
// tx (see residency.read). tx.Size is a whole number of bbolt pages, and
// bbolt maps at least that much.
func adviseMap(tx *bolt.Tx, advice int) {
	n := tx.Size()
	if n <= 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, tx.DB().Info().Data, uintptr(n), uintptr(advice))
}

// closeBehind closes the handles of idle sealed segments of h whose
// records every registered cursor has passed; they reopen if a reader
// needs them again (a replay, a new consumer). With no registered cursor,
// every idle sealed segment counts as passed.
func (j *Journal) closeBehind(h *head) {
	m := j.minCursor()
	segs := h.segs
	for _, s := range j.handles.segments() {
		i := sort.Search(len(segs), func(i int) bool { return segs[i].first > s.first })
		// segs[i] follows s; s has been passed when m reached it.
		if i > 0 && i < len(segs) && segs[i-1] == s && segs[i].first <= m && s.closeIdle() {
			j.handles.forget(s)
		}
	}
}
