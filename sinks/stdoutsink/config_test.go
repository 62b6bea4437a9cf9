package stdoutsink_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/stdoutsink"
)

// loadConfig decodes a testdata file strictly over the defaults, as the
// config package does.
func loadConfig(t *testing.T, name string) (*stdoutsink.Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg, ok := stdoutsink.NewFactory().DefaultConfig().(*stdoutsink.Config)
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
		want      *stdoutsink.Config
		wantField string
		wantErr   string
	}{
		{file: "config_empty.yaml", want: &stdoutsink.Config{Format: stdoutsink.FormatJSON}},
		{file: "config_text.yaml", want: &stdoutsink.Config{Format: stdoutsink.FormatText}},
		{file: "config_bad_format.yaml", wantField: "format", wantErr: `must be "json" or "text", got "yaml"`},
		{file: "config_typo.yaml", wantErr: "field formt not found"},
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
