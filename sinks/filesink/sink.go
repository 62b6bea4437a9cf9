package filesink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/pipeline"
)

// maxRetainedBuffer caps the encode buffer kept between batches.
const maxRetainedBuffer = 4 << 20

// sink appends JSON lines to one file. Deliver is called by one goroutine
// at a time, but Close may race with it, so the file is guarded by mu.
type sink struct {
	cfg    Config
	logger *slog.Logger

	mu     sync.Mutex
	f      appendFile
	closed bool
	// size is the length of the file's complete lines: where the next
	// batch starts and what a failed write is rolled back to.
	size int64
	// dirty is set when a rollback failed: the file may end in a partial
	// line, and nothing is appended until a rollback succeeds.
	dirty bool
	buf   []byte
	// opened is the existing file Provision opened, for Start; provisioned
	// is set once Provision succeeded.
	opened      *os.File
	provisioned bool
}

var (
	_ pipeline.Sink        = (*sink)(nil)
	_ pipeline.Provisioner = (*sink)(nil)
)

func newSink(set pipeline.Settings, cfg *Config) *sink {
	logger := set.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &sink{cfg: *cfg, logger: logger}
}

// Start runs Provision if nobody did, creates missing parent directories
// and the file (unless Provision opened it), and repairs a partial last
// line left by a crash.
func (s *sink) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.f != nil {
		return fmt.Errorf("start %s: sink already started or closed", s.cfg.Path)
	}
	f := s.opened
	s.opened = nil
	if !s.provisioned {
		var err error
		if f, err = provisionFile(s.cfg.Path); err != nil {
			return fmt.Errorf("start: %w", err)
		}
	}
	if f == nil {
		if err := os.MkdirAll(filepath.Dir(s.cfg.Path), 0o700); err != nil {
			return fmt.Errorf("start: create directory: %w", err)
		}
		if err := safefile.CheckDir(dirWhat, filepath.Dir(s.cfg.Path)); err != nil {
			return fmt.Errorf("start: %w", err)
		}
		var err error
		if f, err = safefile.OpenFile(s.cfg.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
			return fmt.Errorf("start: %w", err)
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return errors.Join(fmt.Errorf("start: %w", err), f.Close())
	}
	if !fi.Mode().IsRegular() {
		return errors.Join(fmt.Errorf("start: %s is not a regular file (%s)", s.cfg.Path, fi.Mode().Type()), f.Close())
	}
	rep, err := repairTail(f, fi.Size())
	if err != nil {
		return errors.Join(fmt.Errorf("start: repair %s: %w", s.cfg.Path, err), f.Close())
	}
	if rep.action != "" {
		s.logger.WarnContext(ctx, "file sink repaired the end of its file", slog.String("path", s.cfg.Path),
			slog.String("action", rep.action), slog.Int64("bytes", rep.bytes))
	}
	s.f, s.size = f, rep.size
	return nil
}

// Deliver writes the batch as JSON lines in one write call and, with
// fsync, syncs the file before returning nil. Every event encodes (data
// that is not valid JSON goes as data_base64); I/O errors are retryable
// and leave no partial batch behind.
func (s *sink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return fmt.Errorf("deliver %s: %w", s.cfg.Path, ErrNotOpen)
	}
	buf := appendLines(s.buf[:0], batch)
	if cap(buf) <= maxRetainedBuffer {
		s.buf = buf
	}
	if s.dirty {
		if err := s.rollback(); err != nil {
			return fmt.Errorf("deliver %s: %w", s.cfg.Path, err)
		}
	}
	if _, err := s.f.Write(buf); err != nil {
		return fmt.Errorf("deliver %s: write: %w", s.cfg.Path, errors.Join(err, s.rollback()))
	}
	if s.cfg.FSync {
		if err := s.f.Sync(); err != nil {
			// What reached the disk is unknown: take the batch out so
			// that the retry does not duplicate it, as far as we can.
			return fmt.Errorf("deliver %s: sync: %w", s.cfg.Path, errors.Join(err, s.rollback()))
		}
	}
	s.size += int64(len(buf))
	return nil
}

// Close syncs and closes the file. It is idempotent and safe without
// Start.
func (s *sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.opened != nil {
		_ = s.opened.Close() // provisioned, never written
		s.opened = nil
	}
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f = nil
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("close %s: %w", s.cfg.Path, err)
	}
	return nil
}

// appendFile is the part of *os.File the sink writes through, so tests can
// inject I/O failures.
type appendFile interface {
	Write(b []byte) (int, error)
	Sync() error
	Truncate(size int64) error
	Close() error
}

// rollback truncates the file to its last complete batch.
func (s *sink) rollback() error {
	if err := s.f.Truncate(s.size); err != nil {
		s.dirty = true
		return fmt.Errorf("roll back to %d bytes: %w", s.size, err)
	}
	s.dirty = false
	return nil
}

// appendLines appends one CloudEvents JSON line per delivery to buf,
// rendered in place (no line is allocated and copied).
func appendLines(buf []byte, batch []pipeline.Delivery) []byte {
	for i := range batch {
		buf = pipeline.AppendCloudEventJSON(buf, &batch[i].Event)
		buf = append(buf, '\n')
	}
	return buf
}
