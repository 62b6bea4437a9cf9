package pipeline

import (
	"context"
	"time"
)

// prefetch is the consumer's next journal read, started while the batch
// before it is delivered, so that reading overlaps with routing, the
// sink's work and the cursor commit. The consumer starts one only after a
// full batch (a backlog is being drained), into a buffer of its own.
type prefetch struct {
	from   uint64
	cancel context.CancelFunc
	done   chan struct{}
	recs   []Record
	err    error
}

// startPrefetch reads from from into buf in a goroutine.
func (s *sinkRunner) startPrefetch(ctx context.Context, from uint64, limit ReadLimit, buf []Record) *prefetch {
	rctx, cancel := context.WithCancel(ctx)
	p := &prefetch{from: from, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.recs, p.err = s.readInto(rctx, from, limit, buf)
	}()
	return p
}

// wait returns the prefetched records once the read is done, or false
// when wake or due fired or ctx ended first, or the read failed: the
// consumer then reads as it would have without a prefetch.
func (p *prefetch) wait(ctx context.Context, wake <-chan struct{}, due <-chan time.Time) ([]Record, bool) {
	select {
	case <-p.done:
	case <-wake:
	case <-due:
	case <-ctx.Done():
	}
	p.stop()
	if p.err != nil || len(p.recs) == 0 {
		return nil, false
	}
	return p.recs, true
}

// stop cancels the read and waits for its goroutine.
func (p *prefetch) stop() {
	p.cancel()
	<-p.done
}

// fullBatch reports whether records filled a read's limit (more are
// probably there to read).
func fullBatch(records []Record, limit ReadLimit) bool {
	if len(records) >= limit.MaxRecords {
		return true
	}
	size := 0
	for i := range records {
		size += records[i].Size
	}
	return size >= limit.MaxBytes/2
}
