package pipeline

import (
	"maps"
	"slices"
	"sync"
)

// SinkState is a sink's small durable key/value state (alarm states, report
// periods), kept by the journal beside the sink's cursor. The runner loads
// it before the sink's factory runs (Settings.State) and commits the changes
// a sink made during a Deliver call atomically with the cursor position that
// covers that call, so after a crash the state always matches the cursor:
// a restart neither re-raises nor forgets.
//
// Keep values small (a few KiB per sink in all): the whole state is written
// with each commit that changed it. All methods are safe for concurrent use.
type SinkState interface {
	// Get returns the value of key and whether it is set.
	Get(key string) ([]byte, bool)
	// Set stores a copy of value under key, visible to Get at once and
	// durable with the next cursor commit.
	Set(key string, value []byte)
	// Delete removes key, durably with the next cursor commit.
	Delete(key string)
	// All returns a copy of every key and value.
	All() map[string][]byte
}

// MemoryState is a SinkState that starts from initial and records changes
// until they are taken with TakeChanges. The runner uses it over the journal;
// tests and tools use it on its own.
type MemoryState struct {
	mu      sync.Mutex
	values  map[string][]byte
	changed map[string]bool
}

var _ SinkState = (*MemoryState)(nil)

// NewMemoryState returns a state holding a copy of initial.
func NewMemoryState(initial map[string][]byte) *MemoryState {
	values := make(map[string][]byte, len(initial))
	for k, v := range initial {
		values[k] = append([]byte(nil), v...)
	}
	return &MemoryState{values: values, changed: map[string]bool{}}
}

// Get implements SinkState.
func (m *MemoryState) Get(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[key]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), v...), true
}

// Set implements SinkState.
func (m *MemoryState) Set(key string, value []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values[key] = append([]byte{}, value...)
	m.changed[key] = true
}

// Delete implements SinkState.
func (m *MemoryState) Delete(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.values[key]; ok {
		delete(m.values, key)
		m.changed[key] = true
	}
}

// All implements SinkState.
func (m *MemoryState) All() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]byte, len(m.values))
	for k, v := range m.values {
		out[k] = append([]byte(nil), v...)
	}
	return out
}

// TakeChanges returns the updates made since the last call, as StateUpdates
// for owner, and forgets them. Sorted by key for deterministic commits.
func (m *MemoryState) TakeChanges(owner string) []StateUpdate {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.changed) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(m.changed))
	out := make([]StateUpdate, 0, len(keys))
	for _, k := range keys {
		if v, ok := m.values[k]; ok {
			out = append(out, StateUpdate{Source: owner, Key: k, Value: append([]byte(nil), v...)})
		} else {
			out = append(out, StateUpdate{Source: owner, Key: k, Delete: true})
		}
	}
	clear(m.changed)
	return out
}
