package lbworkersource_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/lbworkersource"
)

func loadConfig(t *testing.T, name string) (*lbworkersource.Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg, ok := lbworkersource.NewFactory().DefaultConfig().(*lbworkersource.Config)
	require.True(t, ok)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestFactory(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSourceFactory(t, lbworkersource.NewFactory())
}

func TestConfig(t *testing.T) {
	t.Parallel()
	t.Run("full", func(t *testing.T) {
		t.Parallel()
		cfg, err := loadConfig(t, "config_full.yaml")
		require.NoError(t, err)
		assert.Equal(t, []string{"127.0.0.1:4730", "gearman2.example:4730"}, cfg.Gearman.Servers)
		assert.Equal(t, "lb-7f3c", cfg.Gearman.Function)
		assert.Equal(t, pipeline.ByteSize(64<<10), cfg.MaxRequestBytes)
		assert.Equal(t, "s3cret", cfg.HTTP.Token.Reveal())
		assert.Equal(t, "4.1", cfg.Discover.Version)
	})
	for _, tc := range []struct{ file, want string }{
		{"config_no_transport.yaml", "gearman.servers: must not be empty unless http.enabled is true"},
		{"config_typo.yaml", "field sevrers not found"},
		{"config_invalid.yaml", "gearman.servers[0]: must be host:port"},
		{"config_invalid.yaml", "gearman.workers: must be between 1 and 256, got 0"},
		{"config_invalid.yaml", "http.listen: must be host:port"},
		{"config_invalid.yaml", `http.path: must be a plain URL path starting with /, got "x"`},
	} {
		t.Run(tc.file+"/"+tc.want, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(t, tc.file)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
