package pipelinetest

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// EmitHook is called by RecordingHost.Emit before anything is recorded. A
// non-nil error fails the emit, as a journal error would, and nothing is
// recorded. A hook may block (to hold a request in flight); it should
// return when ctx ends.
type EmitHook func(ctx context.Context, events []pipeline.Event) error

// RecordingHost is a pipeline.SourceHost that records what a source emits,
// behaving like the runner's host in front of a journal: each successful
// Emit is one atomic batch; events get consecutive sequences from 1, Origin
// set to the host's name, an empty Source set to "/sluice/sources/NAME",
// an empty ID set to "rec-SEQ" and a zero Time set to the append time.
// Emit honours ctx: a cancelled ctx abandons the batch.
//
// The recorded events are copies; the caller's slice is not modified. All
// methods are safe for concurrent use.
type RecordingHost struct {
	name string

	mu      sync.Mutex
	batches [][]pipeline.Event
	state   map[string][]byte
	calls   int
	next    uint64
	err     error
	hook    EmitHook
	changed chan struct{}
}

var _ pipeline.SourceHost = (*RecordingHost)(nil)

// NewRecordingHost returns an empty host for the source named name.
func NewRecordingHost(name string) *RecordingHost {
	return &RecordingHost{name: name, state: map[string][]byte{}, next: 1, changed: make(chan struct{})}
}

// Emit implements pipeline.SourceHost.
func (h *RecordingHost) Emit(ctx context.Context, events []pipeline.Event, state ...pipeline.StateUpdate) (pipeline.AppendResult, error) {
	h.mu.Lock()
	h.calls++
	hook, failErr := h.hook, h.err
	h.mu.Unlock()

	if hook != nil {
		if err := hook(ctx, events); err != nil {
			return pipeline.AppendResult{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return pipeline.AppendResult{}, err
	}
	if failErr != nil {
		return pipeline.AppendResult{}, failErr
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	res := pipeline.AppendResult{Time: now}
	batch := make([]pipeline.Event, len(events))
	for i, e := range events {
		e = pipeline.CloneEvent(e)
		e.Sequence = h.next
		h.next++
		e.Origin = h.name
		if e.Source == "" {
			e.Source = "/sluice/sources/" + h.name
		}
		if e.ID == "" {
			e.ID = fmt.Sprintf("rec-%d", e.Sequence)
		}
		if e.Time.IsZero() && !e.TimeGiven {
			e.Time = now
		}
		batch[i] = e
	}
	if len(batch) > 0 {
		res.First, res.Last = batch[0].Sequence, batch[len(batch)-1].Sequence
	}
	for _, u := range state {
		if u.Delete {
			delete(h.state, u.Key)
			continue
		}
		h.state[u.Key] = append([]byte(nil), u.Value...)
	}
	h.batches = append(h.batches, batch)
	close(h.changed)
	h.changed = make(chan struct{})
	return res, nil
}

// State implements pipeline.SourceHost: the state as of the last
// successful Emit.
func (h *RecordingHost) State(ctx context.Context) (map[string][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.state), nil
}

// SetError makes every following Emit fail with err (for example
// pipeline.ErrJournalFull) without recording anything, until SetError(nil).
func (h *RecordingHost) SetError(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
}

// SetHook installs fn to run at the start of every Emit; nil removes it.
func (h *RecordingHost) SetHook(fn EmitHook) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hook = fn
}

// Calls returns how many times Emit was called, successful or not.
func (h *RecordingHost) Calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// Batches returns the recorded batches, one per successful Emit.
func (h *RecordingHost) Batches() [][]pipeline.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([][]pipeline.Event, len(h.batches))
	for i, b := range h.batches {
		out[i] = cloneEvents(b)
	}
	return out
}

// Events returns every recorded event in emit order.
func (h *RecordingHost) Events() []pipeline.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []pipeline.Event
	for _, b := range h.batches {
		out = append(out, cloneEvents(b)...)
	}
	return out
}

// WaitForEvents blocks until at least n events are recorded, and returns
// them, or returns ctx's error.
func (h *RecordingHost) WaitForEvents(ctx context.Context, n int) ([]pipeline.Event, error) {
	for {
		h.mu.Lock()
		count := 0
		for _, b := range h.batches {
			count += len(b)
		}
		changed := h.changed
		h.mu.Unlock()
		if count >= n {
			return h.Events(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %d events (have %d): %w", n, count, ctx.Err())
		}
	}
}

func cloneEvents(in []pipeline.Event) []pipeline.Event {
	out := make([]pipeline.Event, len(in))
	for i, e := range in {
		out[i] = pipeline.CloneEvent(e)
	}
	return out
}
