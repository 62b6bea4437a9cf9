package pipeline

import (
	"errors"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// RetryConfig is a sink's retry policy: exponential backoff with jitter.
type RetryConfig struct {
	// Initial is the first wait after a failure.
	Initial time.Duration `yaml:"initial"`
	// Max caps the wait between attempts.
	Max time.Duration `yaml:"max"`
	// Multiplier grows the wait after each failure.
	Multiplier float64 `yaml:"multiplier"`
	// Jitter is the randomization factor: each wait is drawn from
	// [wait*(1-Jitter), wait*(1+Jitter)].
	Jitter float64 `yaml:"jitter"`
	// MaxElapsed gives up after this long; 0 retries until it succeeds,
	// the right default when the journal holds the backlog.
	MaxElapsed time.Duration `yaml:"max_elapsed"`
}

// DefaultRetryConfig returns the default policy: 500ms doubling to 30s,
// 20% jitter, retrying until success.
func DefaultRetryConfig() RetryConfig {
	return RetryConfig{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Multiplier: 2, Jitter: 0.2}
}

// Validate implements Config.
func (c *RetryConfig) Validate() error {
	var errs []error
	if c.Initial <= 0 {
		errs = append(errs, FieldErrorf("initial", "must be positive, got %s", c.Initial))
	}
	if c.Max < c.Initial {
		errs = append(errs, FieldErrorf("max", "must be at least initial (%s), got %s", c.Initial, c.Max))
	}
	if c.Multiplier < 1 {
		errs = append(errs, FieldErrorf("multiplier", "must be at least 1, got %g", c.Multiplier))
	}
	if c.Jitter < 0 || c.Jitter > 1 {
		errs = append(errs, FieldErrorf("jitter", "must be between 0 and 1, got %g", c.Jitter))
	}
	if c.MaxElapsed < 0 {
		errs = append(errs, FieldErrorf("max_elapsed", "must not be negative (0 means retry until success), got %s", c.MaxElapsed))
	}
	return errors.Join(errs...)
}

// NewBackOff returns a fresh exponential backoff for c that reads time
// from clock (nil means the wall clock). Callers Reset it after a success;
// NextBackOff returns backoff.Stop once MaxElapsed has passed.
func (c RetryConfig) NewBackOff(clock Clock) *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = c.Initial
	b.MaxInterval = c.Max
	b.Multiplier = c.Multiplier
	b.RandomizationFactor = c.Jitter
	b.MaxElapsedTime = c.MaxElapsed
	if clock != nil {
		b.Clock = clock
	}
	b.Reset()
	return b
}
