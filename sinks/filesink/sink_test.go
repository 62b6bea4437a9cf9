package filesink_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/filesink"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// newSink builds an unstarted file sink writing to path.
func newSink(t *testing.T, cfg *filesink.Config) pipeline.Sink {
	t.Helper()
	s, err := filesink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("file"), cfg)
	require.NoError(t, err)
	return s
}

// startSink builds and starts a sink and closes it when the test ends.
func startSink(t *testing.T, cfg *filesink.Config) pipeline.Sink {
	t.Helper()
	s := newSink(t, cfg)
	require.NoError(t, s.Start(t.Context()))
	t.Cleanup(func() { assert.NoError(t, s.Close(context.Background())) })
	return s
}

func readEvents(t *testing.T, path string) []pipeline.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	evs, err := pipelinetest.DecodeJSONLines(b)
	require.NoError(t, err)
	return evs
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, fsync := range []bool{true, false} {
		t.Run(map[bool]string{true: "fsync", false: "nofsync"}[fsync], func(t *testing.T) {
			t.Parallel()
			pipelinetest.TestSink(t, func(t *testing.T) (pipeline.Sink, func() []pipeline.Event) {
				path := filepath.Join(t.TempDir(), "out.jsonl")
				return newSink(t, &filesink.Config{Path: path, FSync: fsync}), func() []pipeline.Event { return readEvents(t, path) }
			})
		})
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := startSink(t, &filesink.Config{Path: path, FSync: true})
	all := pipelinetest.SampleDeliveries(1, 6)
	require.NoError(t, s.Deliver(t.Context(), all[:2]))
	require.NoError(t, s.Deliver(t.Context(), all[2:]))

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	golden := filepath.Join("testdata", "deliver.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func TestAppendsAcrossRestarts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.jsonl")
	for i, batch := range [][]pipeline.Delivery{pipelinetest.SampleDeliveries(1, 2), pipelinetest.SampleDeliveries(3, 2)} {
		s := newSink(t, &filesink.Config{Path: path, FSync: i == 0})
		require.NoError(t, s.Start(t.Context()))
		require.NoError(t, s.Deliver(t.Context(), batch))
		require.NoError(t, s.Close(t.Context()))
	}
	evs := readEvents(t, path)
	require.Len(t, evs, 4)
	for i, e := range evs {
		assert.Equal(t, uint64(i+1), e.Sequence)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "out.jsonl")
	startSink(t, &filesink.Config{Path: path, FSync: true})

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "file mode")
	for _, d := range []string{dir, filepath.Dir(dir)} {
		di, err := os.Stat(d)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), di.Mode().Perm(), "mode of created directory %s", d)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	notADir := filepath.Join(tmp, "plain")
	require.NoError(t, os.WriteFile(notADir, nil, 0o600))

	tests := []struct {
		name string
		path string
		want string
	}{
		// Parent is a regular file: fails even for root, unlike a
		// permission check.
		{name: "unwritable path", path: filepath.Join(notADir, "out.jsonl"), want: "not a directory"},
		{name: "path is a directory", path: tmp, want: "is a directory"},
		{name: "not a regular file", path: os.DevNull, want: "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSink(t, &filesink.Config{Path: tt.path})
			err := s.Start(t.Context())
			require.ErrorContains(t, err, tt.want)
			require.NoError(t, s.Close(t.Context()))
		})
	}
}

func TestDeliverBeforeStartAndAfterClose(t *testing.T) {
	t.Parallel()
	s := newSink(t, &filesink.Config{Path: filepath.Join(t.TempDir(), "out.jsonl")})
	batch := pipelinetest.SampleDeliveries(1, 1)
	require.ErrorIs(t, s.Deliver(t.Context(), batch), filesink.ErrNotOpen)
	require.NoError(t, s.Start(t.Context()))
	require.NoError(t, s.Close(t.Context()))
	require.ErrorIs(t, s.Deliver(t.Context(), batch), filesink.ErrNotOpen)
	require.Error(t, s.Start(t.Context()), "start after close")
}

func TestRepairOnStart(t *testing.T) {
	t.Parallel()
	good := "{\"id\":\"1\"}\n"
	tests := []struct {
		name     string
		existing string
		want     string
	}{
		{name: "empty", existing: "", want: ""},
		{name: "complete", existing: good, want: good},
		{name: "torn last line", existing: good + `{"id":"2","sour`, want: good},
		{name: "torn only line", existing: `{"id":"2","sour`, want: ""},
		{name: "whole line without newline", existing: good + `{"id":"2"}`, want: good + "{\"id\":\"2\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "out.jsonl")
			require.NoError(t, os.WriteFile(path, []byte(tt.existing), 0o600))
			s := startSink(t, &filesink.Config{Path: path})
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got), "after start")

			require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1)))
			got, err = os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got[:len(tt.want)]), "the repaired prefix is kept")
			_, err = pipelinetest.DecodeJSONLines(got[len(tt.want):])
			require.NoError(t, err, "the delivered batch is whole lines")
		})
	}
}
