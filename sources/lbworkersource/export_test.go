package lbworkersource

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sluice-dev/sluice/pipeline"
)

// ServeGearmanForTest runs conns worker connections of the source's
// Gearman transport to addr, jobs in flight each, answering every job
// with handle(body), until ctx ends: the transport without the message
// contract, for the benchmarks' floor.
func ServeGearmanForTest(ctx context.Context, addr, function string, conns, jobs int, handle func(ctx context.Context, body []byte) []byte) error {
	g, gctx := errgroup.WithContext(ctx)
	for range conns {
		w := &gearmanWorker{
			addr: addr, function: function, clientID: function, maxJob: 1 << 20, jobs: jobs,
			dialTO: time.Second, retry: pipeline.RetryConfig{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Multiplier: 2},
			clock: pipeline.RealClock(), log: slog.New(slog.DiscardHandler), shutdown: time.Second,
			handle: func(ctx context.Context, in inbound) []byte { return handle(ctx, in.body) },
		}
		g.Go(func() error { return w.run(gctx) })
	}
	return g.Wait()
}
