package journal

import (
	"container/list"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultMaxOpenSegments is the default of Options.MaxOpenSegments.
const DefaultMaxOpenSegments = 64

// handleCache bounds the sealed segments that hold an open bbolt handle
// (a file descriptor and a memory map): when more than max are open, the
// least recently used idle ones are closed; they reopen on next use. A
// segment a reader holds is never closed under it. The active segment is
// not counted.
type handleCache struct {
	mu  sync.Mutex
	max int
	lru list.List // of *segment, most recently used at the front
}

func newHandleCache(maxOpen int) *handleCache {
	return &handleCache{max: maxOpen}
}

// used marks s as just used; opened says its handle was just opened,
// which may push idle segments out. The active segment is left out.
func (c *handleCache) used(s *segment, opened bool) {
	if c == nil || s.active.Load() {
		return
	}
	c.mu.Lock()
	if s.elem != nil {
		c.lru.MoveToFront(s.elem)
	} else {
		s.elem = c.lru.PushFront(s)
	}
	var victims []*segment
	if opened {
		for e := c.lru.Back(); e != nil && c.lru.Len()-len(victims) > c.max; e = e.Prev() {
			if v := e.Value.(*segment); v != s {
				victims = append(victims, v)
			}
		}
	}
	c.mu.Unlock()
	for _, v := range victims {
		if v.closeIdle() {
			c.forget(v)
		}
	}
}

// forget removes s from the cache (its handle is closed or it is gone).
func (c *handleCache) forget(s *segment) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if s.elem != nil {
		c.lru.Remove(s.elem)
		s.elem = nil
	}
	c.mu.Unlock()
}

// segments returns the sealed segments that hold a handle.
func (c *handleCache) segments() []*segment {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*segment, 0, c.lru.Len())
	for e := c.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*segment))
	}
	return out
}

// open returns how many sealed segments hold a handle.
func (c *handleCache) open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// closeIdle closes the handle of a sealed segment no reader holds and
// reports whether the cache should forget the segment: its handle is
// closed, or it is gone (retire and release close a gone segment's
// handle).
func (s *segment) closeIdle() bool {
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		return true
	}
	if s.refs > 0 || s.reopen != nil {
		s.mu.Unlock()
		return false
	}
	db := s.db
	s.db = nil
	s.mu.Unlock()
	if db != nil {
		_ = db.Close()
	}
	return true
}

// detach takes the active segment's handle away before the committer
// closes it: later acquires wait until attach, and detach returns once no
// reader holds the old handle.
func (s *segment) detach() {
	s.mu.Lock()
	s.reopen = make(chan struct{})
	for s.refs > 0 {
		s.mu.Unlock()
		time.Sleep(100 * time.Microsecond)
		s.mu.Lock()
	}
	s.db = nil
	s.mu.Unlock()
}

// attach installs the reopened handle, or the reason there is none, and
// releases the waiting acquires.
func (s *segment) attach(db *bolt.DB, down error) {
	s.mu.Lock()
	s.db, s.down = db, down
	if s.reopen != nil {
		close(s.reopen)
		s.reopen = nil
	}
	s.mu.Unlock()
}
