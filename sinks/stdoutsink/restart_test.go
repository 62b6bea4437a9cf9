package stdoutsink_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/stdoutsink"
)

// countingWriter counts the lines written through it; once total has
// reached stopAt it writes nothing more (the sink retries the batch, in
// the next run) and calls full to end the run.
type countingWriter struct {
	w      *os.File
	total  *atomic.Int64
	stopAt int64
	full   func()
}

var errRunOver = errors.New("this run has written its share")

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.total.Load() >= c.stopAt {
		c.full()
		return 0, errRunOver
	}
	n, err := c.w.Write(p)
	if c.total.Add(int64(bytes.Count(p[:n], []byte("\n")))) >= c.stopAt {
		c.full()
	}
	return n, err
}

// TestRestartsLoseNoLine drains a backlog to the stdout sink over three
// runs of the engine, each stopped part way, with standard output opened
// as a shell opens it. With `>>` (O_APPEND) the file holds every event
// once, in journal order. With `>` (O_TRUNC at every start) it holds only
// what the last run wrote, a contiguous run of events up to the newest:
// the sink resumes after what it delivered and the shell discarded the
// rest. That was the 10M-event drain's "only the last 3.64M lines" (the
// other part of it was retention at Open, see journal's
// TestOpenKeepsBacklogForNewConsumer): the sink loses no line.
func TestRestartsLoseNoLine(t *testing.T) {
	t.Parallel()
	const events = 3000
	for name, flags := range map[string]int{"append": os.O_APPEND, "truncate": os.O_TRUNC} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			j, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{CursorFlushInterval: 10 * time.Millisecond})
			require.NoError(t, err)
			defer j.Close(context.Background())
			for i := 0; i < events; i += 500 {
				_, err := j.Append(context.Background(), pipeline.AppendBatch{Events: pipelinetest.ProbeEvents(i, 500)})
				require.NoError(t, err)
			}
			out := filepath.Join(dir, "out.jsonl")
			var total atomic.Int64
			for run := int64(1); run <= 3; run++ {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|flags, 0o600)
				require.NoError(t, err)
				ctx, cancel := context.WithCancel(context.Background())
				w := &countingWriter{w: f, total: &total, stopAt: run * events / 3, full: cancel}
				runEngine(ctx, t, j, w)
				cancel()
				require.NoError(t, f.Close())
			}
			seqs := lineSequences(t, out)
			require.NotEmpty(t, seqs)
			for i := 1; i < len(seqs); i++ {
				require.Equal(t, seqs[i-1]+1, seqs[i], "line %d: contiguous, in order, once", i)
			}
			assert.Equal(t, uint64(events), seqs[len(seqs)-1], "the file ends with the newest event")
			if flags == os.O_APPEND {
				assert.Equal(t, uint64(1), seqs[0], "every event, from the first")
			} else {
				assert.Greater(t, seqs[0], uint64(1), "truncated at each start: only the last run's lines")
			}
		})
	}
}

// runEngine runs a pipeline of an idle source and a stdout sink writing
// to w until ctx ends.
func runEngine(ctx context.Context, t *testing.T, j pipeline.Journal, w *countingWriter) {
	t.Helper()
	sinks, err := pipeline.NewRegistry(stdoutsink.NewFactory(stdoutsink.WithWriter(w)))
	require.NoError(t, err)
	sources, err := pipeline.NewRegistry(pipeline.NewSourceFactory("idle", func() *idleConfig { return &idleConfig{} },
		func(context.Context, pipeline.Settings, *idleConfig) (pipeline.Source, error) {
			return idleSource{}, nil
		}))
	require.NoError(t, err)
	p, err := pipeline.New(ctx, pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "idle", Config: &idleConfig{}}},
		Sinks: []pipeline.SinkSpec{{Name: "out", Type: stdoutsink.Type, Config: &stdoutsink.Config{Format: stdoutsink.FormatJSON},
			Batch: pipeline.BatchConfig{MaxEvents: 64, MaxBytes: 1 << 20}}},
		Routes: []pipeline.RouteSpec{{Name: "r", From: []string{"in"}, To: []string{"out"}}},
	}, pipeline.Registries{Sources: sources, Sinks: sinks}, j, pipeline.NopSettings("test"))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Minute):
		t.Fatalf("the run did not write its share: %d lines in all", w.total.Load())
	}
}

// lineSequences returns the journal sequence of every line of path.
func lineSequences(t *testing.T, path string) []uint64 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var seqs []uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		e, err := pipeline.UnmarshalCloudEventJSON(sc.Bytes())
		require.NoError(t, err, "line %d", len(seqs)+1)
		seqs = append(seqs, e.Sequence)
	}
	require.NoError(t, sc.Err())
	return seqs
}

type idleConfig struct{}

func (*idleConfig) Validate() error { return nil }

// idleSource emits nothing.
type idleSource struct{}

func (idleSource) Run(ctx context.Context, _ pipeline.SourceHost) error {
	<-ctx.Done()
	return nil
}
