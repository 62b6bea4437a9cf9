package filesink

import (
	"errors"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
)

// Config is the file sink's configuration.
type Config struct {
	// Path is the file to append to. Required. Missing parent directories
	// are created (mode 0700).
	Path string `yaml:"path"`
	// FSync syncs the file after every batch, before the batch is
	// acknowledged. Default true; turning it off trades durability of the
	// last batches before a crash for throughput.
	FSync bool `yaml:"fsync"`
}

// defaultConfig returns the defaults: fsync on, no path.
func defaultConfig() *Config {
	return &Config{FSync: true}
}

// Validate implements pipeline.Config.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Path == "":
		errs = append(errs, pipeline.FieldErrorf("path", "is required"))
	case strings.ContainsRune(c.Path, 0):
		errs = append(errs, pipeline.FieldErrorf("path", "must not contain a NUL byte"))
	case strings.HasSuffix(c.Path, "/"):
		errs = append(errs, pipeline.FieldErrorf("path", "%q names a directory, want a file", c.Path))
	}
	return errors.Join(errs...)
}
