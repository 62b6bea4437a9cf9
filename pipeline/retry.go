package pipeline

import (
	"context"
	"errors"
	"fmt"
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

// errRetriesExhausted wraps the last error of an operation that retry gave
// up on because RetryConfig.MaxElapsed passed.
var errRetriesExhausted = errors.New("retries exhausted")

// retry is the one retry loop of the pipeline: delivery, redrive, replay and
// the dead-letter store all go through it. It calls op with attempt numbers
// 1, 2, ... until op returns nil. A permanent error (IsPermanent) is
// returned at once. After a transient error it waits the policy's next
// backoff, calling onRetry first (for logs and metrics); once
// policy.MaxElapsed (counted from the first attempt, when positive) would
// pass, it returns the last error wrapped with errRetriesExhausted. When
// ctx ends, during a wait or after a failed attempt, it returns
// errStopping: whatever op did not finish is left for later.
func retry(ctx context.Context, clock Clock, policy RetryConfig, onRetry func(attempt int, wait time.Duration, err error), op func(attempt int) error) error {
	var (
		b     *backoff.ExponentialBackOff
		begin time.Time
	)
	for attempt := 1; ; attempt++ {
		if attempt == 1 {
			begin = clock.Now()
		}
		err := op(attempt)
		if err == nil {
			return nil
		}
		if IsPermanent(err) {
			return err
		}
		if ctx.Err() != nil {
			return errStopping
		}
		if b == nil {
			b = policy.withoutElapsed().NewBackOff(clock)
		}
		wait := b.NextBackOff()
		if policy.MaxElapsed > 0 && clock.Now().Sub(begin)+wait > policy.MaxElapsed {
			return fmt.Errorf("%w: %w", errRetriesExhausted, err)
		}
		if onRetry != nil {
			onRetry(attempt, wait, err)
		}
		timer := clock.NewTimer(wait)
		select {
		case <-timer.C():
		case <-ctx.Done():
			timer.Stop()
			return errStopping
		}
	}
}

// withoutElapsed is c with no MaxElapsed, for a backoff whose elapsed time
// retry measures itself (from the first attempt, not from creation).
func (c RetryConfig) withoutElapsed() RetryConfig {
	c.MaxElapsed = 0
	return c
}

// sinkPolicies returns the sink's retry and batch settings with the
// defaults applied to what is unset. It is the one place the defaults are
// applied (New, Replay and Provision use it).
func sinkPolicies(ks *SinkSpec) (RetryConfig, BatchConfig, error) {
	retry, batch := ks.Retry, ks.Batch
	if retry == (RetryConfig{}) {
		retry = DefaultRetryConfig()
	}
	if batch == (BatchConfig{}) {
		batch = DefaultBatchConfig()
	}
	if err := errors.Join(retry.Validate(), batch.Validate()); err != nil {
		return retry, batch, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return retry, batch, nil
}
