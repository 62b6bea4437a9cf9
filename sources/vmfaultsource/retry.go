package vmfaultsource

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/sluice-dev/sluice/pipeline"
)

// errEmit marks a failed journal append, retried like a failed request.
var errEmit = errors.New("emit")

// retrier runs one poll until it succeeds: a poll is never skipped, and a
// failure changes no fault state (unknown is not a clear). Between
// attempts it waits the peer's Retry-After (429 and 503) or the next
// backoff.
type retrier struct {
	cfg   pipeline.RetryConfig
	clock pipeline.Clock
	tel   *telemetry
	log   *slog.Logger
}

// run calls attempt until it returns nil (true) or ctx ends (false).
func (r *retrier) run(ctx context.Context, what string, attempt func(context.Context) error) bool {
	var b interface{ NextBackOff() time.Duration }
	for failures := 0; ; failures++ {
		err := attempt(ctx)
		if err == nil {
			r.tel.add(ctx, r.tel.polls, 1, attribute.String("result", "ok"))
			if failures > 0 {
				r.log.Info("vmfault poll recovered", slog.String("poll", what), slog.Int("failed_attempts", failures))
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		reason := errorReason(err)
		r.tel.add(ctx, r.tel.errors, 1, attribute.String("reason", reason))
		if b == nil {
			b = r.cfg.NewBackOff(r.clock)
		}
		wait := retryAfterOf(err)
		if wait == 0 {
			if wait = b.NextBackOff(); wait < 0 { // backoff.Stop after max_elapsed: keep trying at the cap
				wait = r.cfg.Max
			}
		}
		level := slog.LevelDebug
		if failures%20 == 0 { // the first failure, then one in 20 of a long outage
			level = slog.LevelWarn
		}
		r.log.Log(ctx, level, "vmfault poll failed; retrying", slog.String("poll", what), slog.String("reason", reason),
			slog.String("error", err.Error()), slog.Duration("retry_in", wait), slog.Int("attempt", failures+1))
		if !sleep(ctx, r.clock, wait) {
			return false
		}
	}
}

// sleep waits d on clock; false if ctx ended first.
func sleep(ctx context.Context, clock pipeline.Clock, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}
