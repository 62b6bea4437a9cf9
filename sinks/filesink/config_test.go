package filesink_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/filesink"
)

// loadConfig decodes a testdata file strictly over the defaults, as the
// config package does.
func loadConfig(t *testing.T, name string) (*filesink.Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg, ok := filesink.NewFactory().DefaultConfig().(*filesink.Config)
	require.True(t, ok)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file      string
		want      *filesink.Config
		wantField string
		wantErr   string
	}{
		{file: "config_full.yaml", want: &filesink.Config{Path: "/var/lib/sluice/export/events.jsonl", FSync: false}},
		{file: "config_minimal.yaml", want: &filesink.Config{Path: "events.jsonl", FSync: true}},
		{file: "config_empty.yaml", wantField: "path", wantErr: "path: is required"},
		{file: "config_directory.yaml", wantField: "path", wantErr: "names a directory"},
		{file: "config_typo.yaml", wantErr: "field fsnyc not found"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(t, tt.file)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, cfg)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			if tt.wantField != "" {
				var fe *pipeline.FieldError
				require.ErrorAs(t, err, &fe, "want a FieldError, got %v", err)
				assert.Equal(t, tt.wantField, fe.Field)
			}
		})
	}
}
