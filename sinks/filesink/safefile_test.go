package filesink_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/filesink"
)

// TestStartRefusesRedirectedFile: a symlinked or hard-linked path, or a
// directory others can write into, is refused at Start and whatever the
// link points at is left untouched, as is the write of a later Deliver.
func TestStartRefusesRedirectedFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, path, victim string)
	}{
		{"symlink", func(t *testing.T, _, path, victim string) {
			require.NoError(t, os.Symlink(victim, path))
		}},
		{"hard link", func(t *testing.T, _, path, victim string) {
			require.NoError(t, os.Link(victim, path))
		}},
		{"group-writable directory", func(t *testing.T, dir, _, _ string) {
			require.NoError(t, os.Chmod(dir, 0o775))
		}},
		{"world-writable sticky directory", func(t *testing.T, dir, _, _ string) {
			require.NoError(t, os.Chmod(dir, 0o1777))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "out")
			require.NoError(t, os.Mkdir(dir, 0o700))
			// The victim has a partial last line: a followed link would be cut.
			victim := filepath.Join(t.TempDir(), "victim")
			require.NoError(t, os.WriteFile(victim, []byte("{\"keep\":1}\n{\"partial"), 0o600))
			path := filepath.Join(dir, "events.jsonl")
			tt.setup(t, dir, path, victim)
			s := newSink(t, &filesink.Config{Path: path})
			err := s.Start(t.Context())
			if err == nil {
				_ = s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1))
			}
			require.NoError(t, s.Close(t.Context()))
			require.Error(t, err)
			require.ErrorIs(t, err, safefile.ErrUnsafe)
			got, rerr := os.ReadFile(victim)
			require.NoError(t, rerr)
			assert.Equal(t, "{\"keep\":1}\n{\"partial", string(got))
		})
	}
}
