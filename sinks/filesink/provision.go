package filesink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Provision implements pipeline.Provisioner. It checks, without creating
// or changing anything (`sluice validate` runs it), that Start can open
// the file: an existing file is opened for appending and must be a
// regular file (Start then writes through that handle); for a missing
// one, the nearest existing ancestor of its directory must be a
// directory (Start creates the rest). Start runs it when nobody did, and
// Close releases what it opened.
func (s *sink) Provision(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.f != nil {
		return fmt.Errorf("provision %s: sink already started or closed", s.cfg.Path)
	}
	if s.opened != nil {
		_ = s.opened.Close() // read-only use so far; provisioned again
		s.opened = nil
	}
	f, err := provisionFile(s.cfg.Path)
	if err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	s.opened, s.provisioned = f, true
	return nil
}

// provisionFile opens path for appending when it exists (nil, nil when it
// does not and its nearest existing ancestor is a directory).
func provisionFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	switch {
	case err == nil:
		fi, err := f.Stat()
		if err != nil {
			return nil, errors.Join(err, f.Close())
		}
		if !fi.Mode().IsRegular() {
			return nil, errors.Join(fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type()), f.Close())
		}
		return f, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && fi.IsDir():
			return nil, nil
		case err == nil:
			return nil, fmt.Errorf("%s cannot be created: %s is not a directory", path, dir)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%s cannot be created: %w", path, err)
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil, nil // unreachable in practice: the root exists
		}
	}
}
