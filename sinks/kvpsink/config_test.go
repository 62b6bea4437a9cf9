package kvpsink_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// loadConfig decodes a testdata file strictly over the defaults, as the
// config package does.
func loadConfig(t *testing.T, name string) (*kvpsink.Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg, ok := kvpsink.NewFactory().DefaultConfig().(*kvpsink.Config)
	require.True(t, ok)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && len(b) > 0 {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestConfig(t *testing.T) {
	t.Parallel()
	defaults := &kvpsink.Config{
		Path: "/var/lib/hyperv/.kvp_pool_1", FileMode: "0600", Prefix: "CLOUD_INIT", Mode: kvpsink.ModeHostSafe, TruncateOnBoot: true,
		MaxFileBytes: 1024 * 2560, MaxMessageBytes: 16 << 10, LockTimeout: 10 * time.Second, FSync: true,
	}
	tests := []struct {
		file       string
		want       *kvpsink.Config
		wantFields []string
		wantErr    string
	}{
		{file: "config_empty.yaml", want: defaults},
		{file: "config_full.yaml", want: &kvpsink.Config{
			Path: "/run/test/.kvp_pool_1", Prefix: "SLUICE", Mode: kvpsink.ModeCloudInit, TruncateOnBoot: false,
			MaxFileBytes: 1 << 20, MaxMessageBytes: 64 << 10, LockTimeout: 2 * time.Second, FSync: false,
			FileMode: "0644",
		}},
		{file: "config_bad.yaml", wantFields: []string{"path", "file_mode", "prefix", "max_file_bytes", "max_message_bytes", "lock_timeout"},
			wantErr: "names a directory"},
		{file: "config_mode.yaml", wantErr: `unknown mode "azure-init" (want host-safe or cloud-init)`},
		{file: "config_prefix.yaml", wantFields: []string{"prefix"}, wantErr: "prefix: must be printable ASCII"},
		{file: "config_typo.yaml", wantErr: "field prefx not found"},
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
			if tt.wantFields == nil {
				return
			}
			var fields []string
			for _, e := range pipeline.Unjoin(err) {
				var fe *pipeline.FieldError
				require.ErrorAs(t, e, &fe, "want only FieldErrors, got %v", e)
				fields = append(fields, fe.Field)
			}
			assert.Equal(t, tt.wantFields, fields)
		})
	}
}
