package pipelinetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluice-dev/sluice/pipeline"
)

// BenchmarkSink measures Deliver on a started sink for batches of 1, 64
// and 256 sample deliveries, as sub-benchmarks of b. newSink builds an
// unstarted sink; the benchmark starts and closes it.
func BenchmarkSink(b *testing.B, newSink func(b *testing.B) pipeline.Sink) {
	b.Helper()
	for _, size := range []int{1, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			sink := newSink(b)
			ctx := context.Background()
			if err := sink.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if err := sink.Close(ctx); err != nil {
					b.Error(err)
				}
			})
			batch := SampleDeliveries(1, size)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := sink.Deliver(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
