package filesink_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/filesink"
)

// TestProvision: Provision reports what Start would fail to open,
// creates nothing, and Start writes through what it opened.
func TestProvision(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	existing := filepath.Join(dir, "existing.jsonl")
	require.NoError(t, os.WriteFile(existing, []byte("{\"old\":1}\n"), 0o600))
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"missing directories", filepath.Join(dir, "a", "b", "out.jsonl"), ""},
		{"existing file", existing, ""},
		{"parent is a file", filepath.Join(notDir, "x", "out.jsonl"), "not a directory"},
		{"path is a directory", dir, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSink(t, &filesink.Config{Path: tt.path})
			p, ok := s.(pipeline.Provisioner)
			require.True(t, ok, "the file sink is a Provisioner")
			err := p.Provision(t.Context())
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NoError(t, s.Close(t.Context()))
				return
			}
			require.NoError(t, err)
			if tt.path != existing {
				assert.NoDirExists(t, filepath.Dir(tt.path), "Provision creates nothing")
			}
			require.NoError(t, s.Start(t.Context()))
			require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 2)))
			require.NoError(t, s.Close(context.Background()))
			b, err := os.ReadFile(tt.path)
			require.NoError(t, err)
			lines := 2
			if tt.path == existing {
				lines++
			}
			assert.Equal(t, lines, bytes.Count(b, []byte("\n")), "%s", b)
		})
	}
}
