package pipeline

import (
	"sync"
	"sync/atomic"
)

// sinkCounters are a sink's running totals since the pipeline was built,
// for Status (and the rates `sluice top` computes from two snapshots).
// They are kept per sink name, so a sink rebuilt by a Reload keeps
// counting.
type sinkCounters struct {
	delivered, retries, deadLettered, failures atomic.Uint64
}

// sourceCounters are a source's running totals, as sinkCounters.
type sourceCounters struct {
	appended, emitErrors atomic.Uint64
}

// counterSet holds the counters of a pipeline's components by name.
type counterSet struct {
	mu      sync.Mutex
	sinks   map[string]*sinkCounters
	sources map[string]*sourceCounters
}

func newCounterSet() *counterSet {
	return &counterSet{sinks: map[string]*sinkCounters{}, sources: map[string]*sourceCounters{}}
}

// sink returns the named sink's counters, created at zero.
func (c *counterSet) sink(name string) *sinkCounters {
	c.mu.Lock()
	defer c.mu.Unlock()
	return entry(c.sinks, name)
}

// source returns the named source's counters, created at zero.
func (c *counterSet) source(name string) *sourceCounters {
	c.mu.Lock()
	defer c.mu.Unlock()
	return entry(c.sources, name)
}

// entry returns m[name], added at zero if missing.
func entry[T any](m map[string]*T, name string) *T {
	v, ok := m[name]
	if !ok {
		v = new(T)
		m[name] = v
	}
	return v
}
