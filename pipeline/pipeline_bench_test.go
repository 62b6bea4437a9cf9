package pipeline_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// BenchmarkPipelineThroughput measures events per second from a source
// emitting batches of 64 through the journal (durable appends) and the
// router to a sink that only counts, end to end: b.N events emitted and
// delivered.
func BenchmarkPipelineThroughput(b *testing.B) {
	for _, sinks := range []int{1, 4} {
		b.Run(map[int]string{1: "sinks=1", 4: "sinks=4"}[sinks], func(b *testing.B) {
			h := newHarness(b)
			h.sources["in"] = newScriptSource(nil)
			spec := pipeline.Spec{
				Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
				Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}}},
			}
			var counters []*countingSink
			for i := range sinks {
				name := string(rune('a' + i))
				s := &countingSink{}
				h.sinks[name] = s
				counters = append(counters, s)
				spec.Sinks = append(spec.Sinks, pipeline.SinkSpec{Name: name, Type: "recording", Config: &emptyConfig{}, Batch: pipeline.BatchConfig{MaxEvents: 1024, MaxBytes: 4 << 20}})
				spec.Routes[0].To = append(spec.Routes[0].To, name)
			}
			r := h.start(spec)
			batch := events("e", 64)
			for i := range batch {
				batch[i].Data = make([]byte, 200)
			}
			b.ReportAllocs()
			b.SetBytes(256)
			b.ResetTimer()
			start := time.Now()
			for n := 0; n < b.N; n += len(batch) {
				h.sources["in"].batches <- batch
				if err := <-h.sources["in"].results; err != nil {
					b.Fatal(err)
				}
			}
			want := int64((b.N + len(batch) - 1) / len(batch) * len(batch))
			for _, s := range counters {
				for deadline := time.Now().Add(time.Minute); s.n.Load() < want; time.Sleep(100 * time.Microsecond) {
					if time.Now().After(deadline) {
						b.Fatalf("delivered %d of %d", s.n.Load(), want)
					}
				}
			}
			b.ReportMetric(float64(want)/time.Since(start).Seconds(), "events/s")
			b.StopTimer()
			require.NoError(b, r.stop(b))
		})
	}
}

// countingSink counts deliveries and keeps nothing.
type countingSink struct{ n atomic.Int64 }

func (*countingSink) Start(context.Context) error { return nil }
func (*countingSink) Close(context.Context) error { return nil }
func (s *countingSink) Deliver(_ context.Context, batch []pipeline.Delivery) error {
	s.n.Add(int64(len(batch)))
	return nil
}
