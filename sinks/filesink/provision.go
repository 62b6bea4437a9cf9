package filesink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sluice-dev/sluice/internal/safefile"
)

// dirWhat names the file's directory in safefile errors.
const dirWhat = "file sink directory"

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
// does not and its nearest existing ancestor is a directory). The file's
// directory, when it exists, must pass safefile.CheckDir, and the file is
// opened with safefile.OpenFile: a symbolic link, a hard-linked file or
// another user's file is refused untouched.
func provisionFile(path string) (*os.File, error) {
	if err := safefile.CheckDir(dirWhat, filepath.Dir(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := safefile.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	switch {
	case err == nil:
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
