package vessink_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// TestProvision checks that the TLS and password files are read by
// Provision, before Start, and that Validate reads none of them.
func TestProvision(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name    string
		mod     func(*vessink.Config)
		wantErr string
	}{
		{name: "nothing to read", mod: func(*vessink.Config) {}},
		{name: "missing ca_file", mod: func(c *vessink.Config) { c.TLS.CAFile = missing }, wantErr: "tls.ca_file: open " + missing},
		{name: "missing password_file", mod: func(c *vessink.Config) { c.Username, c.PasswordFile = "u", missing }, wantErr: "password_file: open " + missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := vessink.NewFactory().DefaultConfig().(*vessink.Config)
			cfg.URL = "https://127.0.0.1:1/eventListener/v7"
			cfg.ReportingEntityName = "sluice-vm17"
			tt.mod(cfg)
			require.NoError(t, cfg.Validate(), "Validate reads no file")
			s, err := vessink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("ves"), cfg)
			require.NoError(t, err)
			p, ok := s.(interface{ Provision(context.Context) error })
			require.True(t, ok, "the ves sink is a pipeline.Provisioner")
			err = p.Provision(t.Context())
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.NoError(t, s.Close(t.Context()))
		})
	}
}
