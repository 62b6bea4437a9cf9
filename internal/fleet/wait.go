package fleet

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sluice-dev/sluice/pipeline"
)

// Wait sleeps b's next interval on clock (a pipeline.RetryConfig's
// backoff), or ceiling once b says Stop: fleet components retry forever,
// since the journal holds the backlog. It returns false when ctx ended
// first.
func Wait(ctx context.Context, clock pipeline.Clock, b *backoff.ExponentialBackOff, ceiling time.Duration) bool {
	d := b.NextBackOff()
	if d == backoff.Stop {
		d = ceiling
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
