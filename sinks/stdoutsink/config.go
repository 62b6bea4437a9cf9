package stdoutsink

import (
	"errors"

	"github.com/sluice-dev/sluice/pipeline"
)

// Output formats.
const (
	// FormatJSON writes CloudEvents structured JSON, one event per line.
	FormatJSON = "json"
	// FormatText writes a one-line summary per event for people.
	FormatText = "text"
)

// Config is the stdout sink's configuration.
type Config struct {
	// Format is "json" (default) or "text".
	Format string `yaml:"format"`
}

func defaultConfig() *Config {
	return &Config{Format: FormatJSON}
}

// Validate implements pipeline.Config.
func (c *Config) Validate() error {
	var errs []error
	switch c.Format {
	case FormatJSON, FormatText:
	default:
		errs = append(errs, pipeline.FieldErrorf("format", "must be %q or %q, got %q", FormatJSON, FormatText, c.Format))
	}
	return errors.Join(errs...)
}
