package filesink_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sluice-dev/sluice/internal/benchmix"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/filesink"
)

// drainEvents is how many events BenchmarkDrain's journal holds.
const drainEvents = 200_000

// BenchmarkDrain measures draining a journal backlog through the sink
// consumer's read, route and deliver path (pipeline.Replay of every record)
// to a null sink and to the file sink with fsync, against the baseline of
// writing the same JSON lines, pre-rendered, to a file with one fsync per
// batch of the same size. Each b.N is one round of all of them, from a
// warm page cache and, with the segment files evicted first
// (POSIX_FADV_DONTNEED), a cold one, so that every variant sees the same
// machine load (benchmix: events/s and CPU time per event of each).
// Events are probe-like (pipelinetest.ProbeEvents).
func BenchmarkDrain(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	fillDrainJournal(b, dir)
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close(ctx)
	lines := renderLines(b, j)
	batch := pipeline.DefaultBatchConfig()
	out := filepath.Join(b.TempDir(), "out.jsonl")
	null := &nullSink{}
	regs := drainRegistries(b, null)
	spec := func(typ string, cfg pipeline.Config) pipeline.Spec {
		return pipeline.Spec{
			Sources: []pipeline.SourceSpec{{Name: "in", Type: "idle", Config: &idleConfig{}}},
			Sinks:   []pipeline.SinkSpec{{Name: "out", Type: typ, Config: cfg, Batch: batch}},
			Routes:  []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
		}
	}
	replay := func(sp pipeline.Spec) {
		rep, err := pipeline.Replay(ctx, sp, regs, j, pipeline.NopSettings("bench"), pipeline.ReplayOptions{Sink: "out", From: 1})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Delivered != drainEvents {
			b.Fatalf("delivered %d of %d", rep.Delivered, drainEvents)
		}
	}
	evict := func() { evictSegments(b, dir) }
	rates := benchmix.Run(b, drainEvents, []benchmix.Variant{
		{Name: "null", Run: func() { replay(spec("null", &idleConfig{})) }},
		{Name: "null-cold", Setup: evict, Run: func() { replay(spec("null", &idleConfig{})) }},
		{Name: "file", Setup: func() { resetFile(b, out) }, Run: func() {
			replay(spec(filesink.Type, &filesink.Config{Path: out, FSync: true}))
		}},
		{Name: "file-cold", Setup: func() { evict(); resetFile(b, out) }, Run: func() {
			replay(spec(filesink.Type, &filesink.Config{Path: out, FSync: true}))
		}},
		{Name: "raw", Setup: func() { resetFile(b, out) }, Run: func() { writeRaw(b, out, lines, batch.MaxEvents) }},
	})
	b.ReportMetric(rates[2]/rates[4], "file/raw")
	b.ReportMetric(rates[3]/rates[4], "file-cold/raw")
}

// fillDrainJournal appends drainEvents probe-like events from source "in".
func fillDrainJournal(b *testing.B, dir string) {
	b.Helper()
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for n := 0; n < drainEvents; n += 1000 {
		if _, err := j.Append(context.Background(), pipeline.AppendBatch{Events: pipelinetest.ProbeEvents(n, 1000)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// renderLines returns the JSON lines the file sink writes for the journal.
func renderLines(b *testing.B, j *journal.Journal) [][]byte {
	b.Helper()
	lines := make([][]byte, 0, drainEvents)
	err := j.Scan(context.Background(), 1, 0, func(r pipeline.Record) error {
		lines = append(lines, append(pipeline.AppendCloudEventJSON(nil, &r.Event), '\n'))
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return lines
}

// writeRaw writes lines to path in batches of batch lines, one write and
// one fsync each: the disk's limit for the file sink's job.
func writeRaw(b *testing.B, path string, lines [][]byte, batch int) {
	b.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var buf []byte
	for i := 0; i < len(lines); i += batch {
		buf = buf[:0]
		for _, l := range lines[i:min(i+batch, len(lines))] {
			buf = append(buf, l...)
		}
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// resetFile empties path (creating it), so every round writes a new file.
func resetFile(b *testing.B, path string) {
	b.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		b.Fatal(err)
	}
}

// evictSegments drops the journal's segment files from the page cache.
func evictSegments(b *testing.B, dir string) {
	b.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".seg") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
		_ = f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// drainRegistries registers the file sink, a null sink and an idle source.
func drainRegistries(b *testing.B, null *nullSink) pipeline.Registries {
	b.Helper()
	sinks, err := pipeline.NewRegistry(filesink.NewFactory(),
		pipeline.NewSinkFactory("null", func() *idleConfig { return &idleConfig{} },
			func(context.Context, pipeline.Settings, *idleConfig) (pipeline.Sink, error) { return null, nil }))
	if err != nil {
		b.Fatal(err)
	}
	sources, err := pipeline.NewRegistry(pipeline.NewSourceFactory("idle", func() *idleConfig { return &idleConfig{} },
		func(context.Context, pipeline.Settings, *idleConfig) (pipeline.Source, error) {
			return idleSource{}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	return pipeline.Registries{Sources: sources, Sinks: sinks}
}

type idleConfig struct{}

func (*idleConfig) Validate() error { return nil }

// nullSink counts deliveries and keeps nothing.
type nullSink struct{ n atomic.Int64 }

func (*nullSink) Start(context.Context) error { return nil }
func (s *nullSink) Deliver(_ context.Context, batch []pipeline.Delivery) error {
	s.n.Add(int64(len(batch)))
	return nil
}
func (*nullSink) Close(context.Context) error { return nil }

// idleSource emits nothing.
type idleSource struct{}

func (idleSource) Run(ctx context.Context, _ pipeline.SourceHost) error {
	<-ctx.Done()
	return nil
}
