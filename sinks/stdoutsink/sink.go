package stdoutsink

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/sluice-dev/sluice/pipeline"
)

// writeMu serializes the writes of every stdout sink in the process, so
// that batches of sinks sharing os.Stdout never interleave.
var writeMu sync.Mutex

// sink writes one line per event to w.
type sink struct {
	w      io.Writer
	encode func(buf []byte, e *pipeline.Event) ([]byte, error)

	mu    sync.Mutex
	state lifecycle
	buf   []byte
}

type lifecycle int

const (
	created lifecycle = iota
	started
	closed
)

// maxRetainedBuffer caps the encode buffer kept between batches.
const maxRetainedBuffer = 1 << 20

var _ pipeline.Sink = (*sink)(nil)

func newSink(cfg *Config, w io.Writer) *sink {
	s := &sink{w: w, encode: appendJSONLine}
	if cfg.Format == FormatText {
		s.encode = appendTextLine
	}
	return s
}

// Start implements pipeline.Sink.
func (s *sink) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != created {
		return fmt.Errorf("start: %w", ErrNotOpen)
	}
	s.state = started
	return nil
}

// Deliver writes the batch with one Write call. An event that cannot be
// encoded fails the batch permanently; a write error is retried.
func (s *sink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != started {
		return fmt.Errorf("deliver: %w", ErrNotOpen)
	}
	buf, err := s.appendBatch(s.buf[:0], batch)
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if cap(buf) <= maxRetainedBuffer {
		s.buf = buf
	}
	writeMu.Lock()
	_, err = s.w.Write(buf)
	writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("deliver: write: %w", err)
	}
	return nil
}

// Close implements pipeline.Sink. It does not close the writer.
func (s *sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = closed
	return nil
}

func appendJSONLine(buf []byte, e *pipeline.Event) ([]byte, error) {
	line, err := pipeline.MarshalCloudEventJSON(e)
	if err != nil {
		return buf, err
	}
	buf = append(buf, line...)
	return append(buf, '\n'), nil
}
