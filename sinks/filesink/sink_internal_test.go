package filesink

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// faultyFile wraps the real file and fails the operations it is told to.
type faultyFile struct {
	appendFile
	partialWrite bool // write half the bytes, then fail
	writeErr     error
	syncErr      error
	truncateErr  error
}

func (f *faultyFile) Write(b []byte) (int, error) {
	if f.writeErr == nil {
		return f.appendFile.Write(b)
	}
	n := 0
	if f.partialWrite {
		n, _ = f.appendFile.Write(b[:len(b)/2])
	}
	return n, f.writeErr
}

func (f *faultyFile) Sync() error {
	if f.syncErr != nil {
		return f.syncErr
	}
	return f.appendFile.Sync()
}

func (f *faultyFile) Truncate(size int64) error {
	if f.truncateErr != nil {
		return f.truncateErr
	}
	return f.appendFile.Truncate(size)
}

func startFaulty(t *testing.T) (*sink, *faultyFile, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := newSink(pipeline.NopSettings("file"), &Config{Path: path, FSync: true})
	require.NoError(t, s.Start(t.Context()))
	t.Cleanup(func() { assert.NoError(t, s.Close(t.Context())) })
	ff := &faultyFile{appendFile: s.f}
	s.f = ff
	require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 2)))
	return s, ff, path
}

func fileContent(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestIOFailuresLeaveNoPartialBatch(t *testing.T) {
	t.Parallel()
	errIO := errors.New("injected I/O error")
	tests := []struct {
		name   string
		inject func(*faultyFile)
	}{
		{name: "write fails", inject: func(f *faultyFile) { f.writeErr = errIO }},
		{name: "partial write", inject: func(f *faultyFile) { f.writeErr, f.partialWrite = errIO, true }},
		{name: "sync fails", inject: func(f *faultyFile) { f.syncErr = errIO }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ff, path := startFaulty(t)
			before := fileContent(t, path)

			tt.inject(ff)
			err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(3, 3))
			require.ErrorIs(t, err, errIO)
			assert.False(t, pipeline.IsPermanent(err), "I/O errors are retried")
			assert.Equal(t, before, fileContent(t, path), "the failed batch is rolled back")

			*ff = faultyFile{appendFile: ff.appendFile}
			require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(3, 3)), "the retry")
			evs, err := pipelinetest.DecodeJSONLines([]byte(fileContent(t, path)))
			require.NoError(t, err)
			assert.Len(t, evs, 5)
		})
	}
}

func TestFailedRollbackBlocksAppends(t *testing.T) {
	t.Parallel()
	errIO := errors.New("injected I/O error")
	s, ff, path := startFaulty(t)
	before := fileContent(t, path)

	ff.writeErr, ff.partialWrite, ff.truncateErr = errIO, true, errIO
	require.ErrorIs(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(3, 2)), errIO)
	torn := fileContent(t, path)
	require.Greater(t, len(torn), len(before), "half a batch is on disk")

	ff.writeErr, ff.partialWrite = nil, false
	require.ErrorIs(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(3, 2)), errIO, "no append after a torn batch")
	assert.Equal(t, torn, fileContent(t, path))

	ff.truncateErr = nil
	require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(3, 2)))
	evs, err := pipelinetest.DecodeJSONLines([]byte(fileContent(t, path)))
	require.NoError(t, err, "the torn batch was rolled back before the append")
	assert.Len(t, evs, 4)
}
