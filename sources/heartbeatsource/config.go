package heartbeatsource

import (
	"errors"
	"time"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// Config configures the heartbeat source.
type Config struct {
	// Interval between heartbeats. Default 60s.
	Interval time.Duration `yaml:"interval"`
	// Type is the event type. Default "sluice.heartbeat".
	Type string `yaml:"type"`
	// Subject is the event subject. Default: the host name.
	Subject string `yaml:"subject"`
	// Severity of the events. Default info.
	Severity pipeline.Severity `yaml:"severity"`
}

var _ pipeline.Config = (*Config)(nil)

func defaultConfig() *Config {
	return &Config{Interval: 60 * time.Second, Type: eventtypes.Heartbeat}
}

// Validate implements pipeline.Config.
func (c *Config) Validate() error {
	var errs []error
	if c.Interval < 10*time.Millisecond {
		errs = append(errs, pipeline.FieldErrorf("interval", "must be at least 10ms, got %s", c.Interval))
	}
	if c.Type == "" {
		errs = append(errs, pipeline.FieldErrorf("type", "must not be empty"))
	}
	return errors.Join(errs...)
}
