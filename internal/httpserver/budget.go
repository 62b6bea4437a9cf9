package httpserver

import "sync/atomic"

// Budget bounds the bytes of request bodies held by the requests in
// flight together. It is safe for concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// TryAcquire takes n bytes of the budget and reports whether they fit;
// nothing is taken when they do not.
func (b *Budget) TryAcquire(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			for peak := b.peak.Load(); used+n > peak && !b.peak.CompareAndSwap(peak, used+n); peak = b.peak.Load() {
			}
			return true
		}
	}
}

// Release returns n bytes taken by TryAcquire.
func (b *Budget) Release(n int64) { b.used.Add(-n) }

// InUse returns the bytes taken now.
func (b *Budget) InUse() int64 { return b.used.Load() }

// Peak returns the most bytes ever taken at once.
func (b *Budget) Peak() int64 { return b.peak.Load() }

// Limit returns the budget's size.
func (b *Budget) Limit() int64 { return b.limit }
