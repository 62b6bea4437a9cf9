package lazyfs

import (
	"errors"
	"sync"
	"syscall"
)

// write is one write call not yet synced.
type write struct {
	off  int64
	data []byte
}

// pending is the unsynced writes of one file (an underlying inode), in
// call order: a later write wins where two overlap.
type pending struct {
	mu     sync.Mutex
	writes []write
}

// end is the end offset of the furthest pending write, 0 without any.
func (p *pending) end() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var end int64
	for _, w := range p.writes {
		end = max(end, w.off+int64(len(w.data)))
	}
	return end
}

// add records a write of data (copied) at off.
func (p *pending) add(data []byte, off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes = append(p.writes, write{off: off, data: append([]byte(nil), data...)})
}

// overlay copies the pending writes over buf, which holds the file's
// synced bytes from off on (n of them), and returns how many bytes of buf
// are file content afterwards.
func (p *pending) overlay(buf []byte, off int64, n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.writes {
		start, stop := max(w.off, off), min(w.off+int64(len(w.data)), off+int64(len(buf)))
		if start >= stop {
			continue
		}
		if gap := int(start - off); gap > n {
			clear(buf[n:gap]) // a hole between the synced end and the write
		}
		copy(buf[start-off:stop-off], w.data[start-w.off:stop-w.off])
		n = max(n, int(stop-off))
	}
	return n
}

// truncate drops pending bytes at or beyond size.
func (p *pending) truncate(size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.writes[:0]
	for _, w := range p.writes {
		switch {
		case w.off >= size:
		case w.off+int64(len(w.data)) > size:
			kept = append(kept, write{off: w.off, data: w.data[:size-w.off]})
		default:
			kept = append(kept, w)
		}
	}
	p.writes = kept
}

// flush writes the pending writes to fd in order and forgets them; the
// caller syncs fd after.
func (p *pending) flush(fd int) syscall.Errno {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, w := range p.writes {
		for done := 0; done < len(w.data); {
			n, err := syscall.Pwrite(fd, w.data[done:], w.off+int64(done))
			if err != nil {
				p.writes = p.writes[i:]
				return errnoOf(err)
			}
			done += n
		}
	}
	p.writes = nil
	return 0
}

// drop forgets every pending write.
func (p *pending) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes = nil
}

func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}
