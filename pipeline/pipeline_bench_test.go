package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// BenchmarkPipelineThroughput measures events per second end to end: 16
// concurrent producers emit batches of 16 events of 256 bytes through the
// host (durable, group-committed appends), and the router delivers them to
// sinks that only count. b.N events are emitted and all delivered to every
// sink before the clock stops.
func BenchmarkPipelineThroughput(b *testing.B) {
	for _, sinks := range []int{1, 4} {
		b.Run(fmt.Sprintf("sinks=%d", sinks), func(b *testing.B) {
			h := newHarness(b)
			src := &loadSource{producers: 16, batch: 16}
			spec := pipeline.Spec{
				Sources: []pipeline.SourceSpec{{Name: "in", Type: "load", Config: &emptyConfig{}}},
				Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}}},
			}
			require.NoError(b, h.regs.Sources.Register(pipeline.NewSourceFactory("load", func() *emptyConfig { return &emptyConfig{} },
				func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) { return src, nil })))
			var counters []*countingSink
			for i := range sinks {
				name := fmt.Sprintf("s%d", i)
				s := &countingSink{}
				h.sinks[name] = s
				counters = append(counters, s)
				spec.Sinks = append(spec.Sinks, pipeline.SinkSpec{Name: name, Type: "recording", Config: &emptyConfig{},
					Batch: pipeline.BatchConfig{MaxEvents: 1024, MaxBytes: 4 << 20}})
				spec.Routes[0].To = append(spec.Routes[0].To, name)
			}
			src.total = int64(b.N)
			src.start = make(chan struct{})
			r := h.start(spec)
			b.ReportAllocs()
			b.SetBytes(256)
			b.ResetTimer()
			begin, cpu := time.Now(), cpuTime(b)
			close(src.start)
			want := src.wait()
			for _, s := range counters {
				for deadline := time.Now().Add(2 * time.Minute); s.n.Load() < want; time.Sleep(50 * time.Microsecond) {
					if time.Now().After(deadline) {
						b.Fatalf("delivered %d of %d", s.n.Load(), want)
					}
				}
			}
			b.ReportMetric(float64(want)/time.Since(begin).Seconds(), "events/s")
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(want), "cpu-ns/event")
			b.StopTimer()
			require.NoError(b, r.stop(b))
		})
	}
}

// loadSource emits total events from concurrent producers once start is
// closed.
type loadSource struct {
	producers, batch int
	total            int64
	start            chan struct{}
	claimed          atomic.Int64 // batches claimed by producers
	emitted          atomic.Int64 // events durably emitted
	done             sync.WaitGroup
	err              atomic.Value
}

func (s *loadSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	s.done.Add(s.producers)
	for p := range s.producers {
		go func() {
			defer s.done.Done()
			select {
			case <-s.start:
			case <-ctx.Done():
				return
			}
			data := make([]byte, 200)
			evs := make([]pipeline.Event, s.batch)
			batches := (s.total + int64(s.batch) - 1) / int64(s.batch)
			for i := 0; ; i++ {
				if s.claimed.Add(1) > batches {
					return
				}
				for k := range evs {
					evs[k] = pipeline.Event{ID: fmt.Sprintf("p%d-%d-%d", p, i, k), Type: "bench", Data: data}
				}
				if _, err := host.Emit(ctx, evs); err != nil {
					s.err.Store(err)
					return
				}
				s.emitted.Add(int64(s.batch))
			}
		}()
	}
	<-ctx.Done()
	s.done.Wait()
	return nil
}

// wait blocks until the producers are done and returns how many events
// they emitted.
func (s *loadSource) wait() int64 {
	s.done.Wait()
	if err, ok := s.err.Load().(error); ok {
		panic(err)
	}
	return s.emitted.Load()
}

// countingSink counts deliveries and keeps nothing.
type countingSink struct{ n atomic.Int64 }

func (*countingSink) Start(context.Context) error { return nil }
func (*countingSink) Close(context.Context) error { return nil }
func (s *countingSink) Deliver(_ context.Context, batch []pipeline.Delivery) error {
	s.n.Add(int64(len(batch)))
	return nil
}
