package pipelinetest

import (
	"context"
	"errors"
	"sync"

	"github.com/sluice-dev/sluice/pipeline"
)

// DeliverHook is called by RecordingSink.Deliver before anything is
// recorded. A non-nil error fails the call and nothing is recorded. It may
// block; it should return when ctx ends.
type DeliverHook func(ctx context.Context, batch []pipeline.Delivery) error

// ErrNotStarted is returned by RecordingSink.Deliver before Start or after
// Close, which the pipeline.Sink contract does not allow.
var ErrNotStarted = errors.New("pipelinetest: deliver outside start and close")

// RecordingSink is a pipeline.Sink that records every delivered batch
// (copies, so the caller may reuse its buffers). Its results can be
// scripted with Script, SetError and SetHook, to drive retry, dead-letter
// and shutdown paths of the runner. All methods are safe for concurrent
// use.
type RecordingSink struct {
	mu      sync.Mutex
	started int
	closed  int
	open    bool
	batches [][]pipeline.Delivery
	calls   int
	script  []error
	err     error
	hook    DeliverHook
	changed chan struct{}
}

var _ pipeline.Sink = (*RecordingSink)(nil)

// NewRecordingSink returns a sink that has recorded nothing.
func NewRecordingSink() *RecordingSink {
	return &RecordingSink{changed: make(chan struct{})}
}

// Start implements pipeline.Sink.
func (s *RecordingSink) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started++
	s.open = true
	return nil
}

// Deliver implements pipeline.Sink. In order, it fails with ctx's error,
// ErrNotStarted, the hook's error, the next scripted result, or the error
// set with SetError; otherwise it records the batch and returns nil.
func (s *RecordingSink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	s.mu.Lock()
	s.calls++
	hook, open := s.hook, s.open
	s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if !open {
		return ErrNotStarted
	}
	if hook != nil {
		if err := hook(ctx, batch); err != nil {
			return err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) > 0 {
		err := s.script[0]
		s.script = s.script[1:]
		if err != nil {
			return err
		}
	} else if s.err != nil {
		return s.err
	}
	if len(batch) == 0 {
		return nil
	}
	rec := make([]pipeline.Delivery, len(batch))
	for i, d := range batch {
		d.Event = pipeline.CloneEvent(d.Event)
		rec[i] = d
	}
	s.batches = append(s.batches, rec)
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

// Close implements pipeline.Sink.
func (s *RecordingSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	s.open = false
	return nil
}

// Script queues the results of the next Deliver calls, one per call; a nil
// entry is a success. Scripted results take precedence over SetError.
func (s *RecordingSink) Script(results ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, results...)
}

// SetError makes every Deliver not covered by Script fail with err until
// SetError(nil). Wrap it with pipeline.Permanent for a permanent failure.
func (s *RecordingSink) SetError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// SetHook installs fn to run in every Deliver; nil removes it.
func (s *RecordingSink) SetHook(fn DeliverHook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// Calls returns how many times Deliver was called, successful or not.
func (s *RecordingSink) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Started returns how many times Start was called.
func (s *RecordingSink) Started() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Closed returns how many times Close was called.
func (s *RecordingSink) Closed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Batches returns the non-empty batches delivered successfully, in order.
func (s *RecordingSink) Batches() [][]pipeline.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]pipeline.Delivery, len(s.batches))
	for i, b := range s.batches {
		out[i] = cloneDeliveries(b)
	}
	return out
}

// Deliveries returns every successful delivery in order.
func (s *RecordingSink) Deliveries() []pipeline.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []pipeline.Delivery
	for _, b := range s.batches {
		out = append(out, cloneDeliveries(b)...)
	}
	return out
}

// Events returns the events of every successful delivery in order.
func (s *RecordingSink) Events() []pipeline.Event {
	return EventsOf(s.Deliveries())
}

// WaitForDeliveries blocks until at least n deliveries are recorded and
// returns them, or returns ctx's error.
func (s *RecordingSink) WaitForDeliveries(ctx context.Context, n int) ([]pipeline.Delivery, error) {
	for {
		s.mu.Lock()
		count := 0
		for _, b := range s.batches {
			count += len(b)
		}
		changed := s.changed
		s.mu.Unlock()
		if count >= n {
			return s.Deliveries(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func cloneDeliveries(in []pipeline.Delivery) []pipeline.Delivery {
	out := make([]pipeline.Delivery, len(in))
	for i, d := range in {
		d.Event = pipeline.CloneEvent(d.Event)
		out[i] = d
	}
	return out
}
