package httpsink_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// provisioner is pipeline.Provisioner.
type provisioner interface {
	Provision(ctx context.Context) error
}

// TestProvision checks that the TLS and secret files are read by
// Provision, before Start, and that Validate reads none of them.
func TestProvision(t *testing.T) {
	t.Parallel()
	ca := newPKI(t)
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name    string
		mod     func(*httpsink.Config)
		wantErr string
	}{
		{name: "ca and client certificate", mod: func(c *httpsink.Config) {
			c.TLS = httpsink.TLSConfig{CAFile: ca.caFile, CertFile: ca.clientCert, KeyFile: ca.clientKey}
		}},
		{name: "missing ca_file", mod: func(c *httpsink.Config) { c.TLS.CAFile = missing }, wantErr: "tls.ca_file: open " + missing},
		{name: "missing key_file", mod: func(c *httpsink.Config) {
			c.TLS = httpsink.TLSConfig{CertFile: ca.clientCert, KeyFile: missing}
		}, wantErr: "tls.key_file: open " + missing},
		{name: "missing bearer_token_file", mod: func(c *httpsink.Config) { c.BearerTokenFile = missing }, wantErr: "bearer_token_file: open " + missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
			cfg.URL = "https://127.0.0.1:1/events"
			tt.mod(cfg)
			require.NoError(t, cfg.Validate(), "Validate reads no file")
			s := newSink(t, pipeline.NopSettings("collector"), cfg)
			p, ok := s.(provisioner)
			require.True(t, ok, "the http sink is a pipeline.Provisioner")
			err := p.Provision(t.Context())
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
				require.NoError(t, s.Start(t.Context()))
			}
			assert.NoError(t, s.Close(t.Context()))
		})
	}
}
