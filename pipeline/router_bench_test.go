package pipeline_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// BenchmarkRouterThroughput measures the delivery side alone: b.N events
// of 256 bytes are appended to the journal before the clock starts, then
// the pipeline starts and the sink's consumer carries them, in batches
// of up to 1,024 journal records, to a sink that only counts. The baseline in the same run is a bare read of the same journal
// (BenchmarkRouterThroughput/baseline=journal-read), so the ratio shows
// what routing costs on top of reading.
func BenchmarkRouterThroughput(b *testing.B) {
	b.Run("pipeline", func(b *testing.B) {
		h := newHarness(b)
		fillJournal(b, h.dir, b.N)
		sink := &countingSink{}
		h.sinks["null"] = sink
		h.sources["in"] = newScriptSource(nil)
		b.ReportAllocs()
		b.SetBytes(256)
		b.ResetTimer()
		start, cpu := time.Now(), cpuTime(b)
		r := h.start(pipeline.Spec{
			Sources: []pipeline.SourceSpec{{Name: "in", Type: "script", Config: &emptyConfig{}}},
			Sinks: []pipeline.SinkSpec{{Name: "null", Type: "recording", Config: &emptyConfig{},
				Batch: pipeline.BatchConfig{MaxEvents: 1024, MaxBytes: 4 << 20}}},
			Routes: []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"null"}}},
		})
		for sink.n.Load() < int64(b.N) {
			time.Sleep(20 * time.Microsecond)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/event")
		b.StopTimer()
		require.NoError(b, r.stop(b))
	})
	b.Run("baseline=journal-read", func(b *testing.B) {
		dir := b.TempDir()
		fillJournal(b, dir, b.N)
		j, err := journal.Open(dir, journal.Options{})
		require.NoError(b, err)
		defer j.Close(context.Background())
		b.ReportAllocs()
		b.SetBytes(256)
		b.ResetTimer()
		start := time.Now()
		next, n := uint64(1), 0
		for n < b.N {
			recs, err := j.Read(context.Background(), next, pipeline.ReadLimit{MaxRecords: 1024, MaxBytes: 4 << 20})
			require.NoError(b, err)
			n += len(recs)
			next = recs[len(recs)-1].Seq + 1
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
}

// cpuTime is the CPU time (user and system) the process used so far, in
// nanoseconds: on a shared machine it varies far less than wall time.
func cpuTime(b *testing.B) int64 {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// fillJournal appends n events of 256 bytes from source "in" to the
// journal in dir.
func fillJournal(b *testing.B, dir string, n int) {
	b.Helper()
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(b, err)
	data := make([]byte, 200)
	batch := make([]pipeline.Event, 0, 1000)
	for i := 0; i < n; {
		batch = batch[:0]
		for k := 0; k < 1000 && i < n; k, i = k+1, i+1 {
			batch = append(batch, pipeline.Event{ID: fmt.Sprint(i), Source: "/bench", Type: "bench", Origin: "in", Data: data})
		}
		_, err := j.Append(context.Background(), pipeline.AppendBatch{Events: batch})
		require.NoError(b, err)
	}
	require.NoError(b, j.Close(context.Background()))
}
