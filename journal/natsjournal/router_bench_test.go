package natsjournal_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
)

// BenchmarkRouters delivers a backlog of 2,000 agent records through 1
// and 2 journal-less routers sharing the sink's durable, with a sink that
// costs nothing (CPU-bound) and one answering each batch of 10 after 2 ms
// (latency-bound, as a remote collector). Each iteration reads the same
// stream through fresh durables (a consumer prefix of its own). Reported:
// events/s.
//
//	go test -run '^$' -bench BenchmarkRouters -benchtime 3x -count 6 ./journal/natsjournal/
func BenchmarkRouters(b *testing.B) {
	srv := fleettest.Start(b)
	const n = 2000
	fillStream(b, srv, "a1", n)
	iter := 0
	for _, latency := range []time.Duration{0, 2 * time.Millisecond} {
		for _, routers := range []int{1, 2} {
			b.Run(fmt.Sprintf("sink=%s/routers=%d", latency, routers), func(b *testing.B) {
				for range b.N {
					iter++
					prefix := fmt.Sprintf("bench%d-", iter)
					var delivered atomic.Int64
					var stops []func()
					start := time.Now()
					for range routers {
						j, err := natsjournal.OpenRouter(b.Context(), connect(b, srv.URL()), natsjournal.RouterConfig{
							Stream: fleet.DefaultStreamConfig(), ConsumerPrefix: prefix, AckWait: 10 * time.Second, MaxAckPending: 1000,
						}, slog.New(slog.DiscardHandler))
						require.NoError(b, err)
						r := runRouter(b, j, fastRetry(), 10)
						r.sink.SetHook(func(_ context.Context, ds []pipeline.Delivery) error {
							if latency > 0 {
								time.Sleep(latency)
							}
							delivered.Add(int64(len(ds)))
							return nil
						})
						stops = append(stops, func() { r.stop(); _ = j.Close(context.Background()) })
					}
					for delivered.Load() < n {
						time.Sleep(time.Millisecond)
					}
					elapsed := time.Since(start)
					for _, stop := range stops {
						stop()
					}
					b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
				}
			})
		}
	}
}
