package pipeline_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/benchmix"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// drainBacklog is how many events BenchmarkDrain's journal holds.
const drainBacklog = 300_000

// BenchmarkDrain measures draining a journal backlog through the live
// runner (the sink consumer's read, route, deliver and cursor commit) to a
// sink that only counts, against reading the same journal alone as the
// consumer does (ReadInto one reused buffer, the consumer's limits),
// interleaved (benchmix). Every round of the pipeline variant is a new
// pipeline with a new sink, which starts at the oldest record. Events are
// probe-like (pipelinetest.ProbeEvents). It reports the ratio
// pipeline/read besides benchmix's rates and CPU per event.
func BenchmarkDrain(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	fillProbeJournal(b, dir, drainBacklog)
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(b, err)
	defer j.Close(ctx)
	h := newHarness(b)
	h.sources["in"] = newScriptSource(nil)
	batch := pipeline.DefaultBatchConfig()
	limit := pipeline.ReadLimit{MaxRecords: batch.MaxEvents, MaxBytes: int(batch.MaxBytes)}
	round := 0
	rates := benchmix.Run(b, drainBacklog, []benchmix.Variant{
		{Name: "read", Run: func() {
			next, n := uint64(1), 0
			var recs []pipeline.Record
			for n < drainBacklog {
				var err error
				recs, err = j.ReadInto(ctx, recs, next, limit)
				require.NoError(b, err)
				n += len(recs)
				next = recs[len(recs)-1].Seq + 1
			}
		}},
		{Name: "pipeline", Run: func() {
			round++
			name := fmt.Sprintf("null%d", round)
			sink := &doneSink{want: drainBacklog, done: make(chan struct{})}
			h.sinks[name] = sink
			p, err := pipeline.New(ctx, pipeline.Spec{
				Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
				Sinks:   []pipeline.SinkSpec{{Name: name, Type: "recording", Config: &emptyConfig{}, Batch: batch}},
				Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{name}}},
			}, h.regs, j, pipeline.NopSettings("bench"))
			require.NoError(b, err)
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- p.Run(runCtx) }()
			select {
			case <-sink.done:
			case err := <-done:
				b.Fatalf("pipeline stopped: %v", err)
			case <-time.After(5 * time.Minute):
				b.Fatalf("delivered %d of %d", sink.n.Load(), drainBacklog)
			}
			cancel()
			require.NoError(b, <-done)
		}},
	})
	b.ReportMetric(rates[1]/rates[0], "pipeline/read")
}

// fillProbeJournal appends n probe-like events from source "in" to the
// journal in dir.
func fillProbeJournal(b *testing.B, dir string, n int) {
	b.Helper()
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(b, err)
	for i := 0; i < n; i += 1000 {
		_, err := j.Append(context.Background(), pipeline.AppendBatch{Events: pipelinetest.ProbeEvents(i, min(1000, n-i))})
		require.NoError(b, err)
	}
	require.NoError(b, j.Close(context.Background()))
}

// doneSink counts deliveries, keeps nothing, and closes done once it has
// counted want.
type doneSink struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (*doneSink) Start(context.Context) error { return nil }
func (*doneSink) Close(context.Context) error { return nil }
func (s *doneSink) Deliver(_ context.Context, batch []pipeline.Delivery) error {
	if s.n.Add(int64(len(batch))) == s.want {
		close(s.done)
	}
	return nil
}
