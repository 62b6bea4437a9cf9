package httpsink_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

func TestTLS(t *testing.T) {
	t.Parallel()
	ca := newPKI(t)
	tests := []struct {
		name       string
		clientCA   bool // the peer requires a client certificate
		tls        httpsink.TLSConfig
		host       string // replaces 127.0.0.1 in the URL
		wantErr    string
		wantLog    string
		wantNoPeer bool
	}{
		{name: "verified by default", wantErr: "verify server certificate", wantLog: "check tls.ca_file"},
		{name: "ca_file", tls: httpsink.TLSConfig{CAFile: ca.caFile}},
		{name: "server_name", tls: httpsink.TLSConfig{CAFile: ca.caFile, ServerName: "sluice.test"}},
		{name: "server_name mismatch", tls: httpsink.TLSConfig{CAFile: ca.caFile, ServerName: "other.test"}, wantErr: "verify server certificate"},
		{name: "insecure_skip_verify", tls: httpsink.TLSConfig{InsecureSkipVerify: true}, wantLog: "VERIFICATION IS DISABLED"},
		{
			name: "client certificate", clientCA: true,
			tls: httpsink.TLSConfig{CAFile: ca.caFile, CertFile: ca.clientCert, KeyFile: ca.clientKey},
		},
		{name: "client certificate missing", clientCA: true, tls: httpsink.TLSConfig{CAFile: ca.caFile}, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, nil, withTLS(ca.serverTLS(tt.clientCA)))
			cfg := p.config(httpsink.ModeBatch)
			cfg.TLS = tt.tls
			set, logs := loggingSettings()
			s := startSink(t, set, cfg)
			batch := pipelinetest.SampleDeliveries(1, 2)
			err := s.Deliver(t.Context(), batch)
			if tt.wantLog != "" {
				assert.Contains(t, logs.String(), tt.wantLog)
			}
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, wantIDs(batch, nil), p.AcceptedIDs())
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			assert.False(t, pipeline.IsPermanent(err), "TLS failures are transient, nothing is dropped: %v", err)
			assert.Empty(t, p.Accepted())
		})
	}
}

func TestTLSStartErrors(t *testing.T) {
	t.Parallel()
	ca := newPKI(t)
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	tests := []struct {
		name    string
		tls     httpsink.TLSConfig
		wantErr string
	}{
		{name: "missing ca_file", tls: httpsink.TLSConfig{CAFile: "/nonexistent/ca.pem"}, wantErr: "tls.ca_file: open /nonexistent/ca.pem"},
		{name: "ca_file not PEM", tls: httpsink.TLSConfig{CAFile: notPEM}, wantErr: "tls.ca_file: no PEM certificate in"},
		{name: "missing cert_file", tls: httpsink.TLSConfig{CertFile: "/nonexistent/c.crt", KeyFile: ca.clientKey}, wantErr: "tls.cert_file"},
		{name: "key does not match", tls: httpsink.TLSConfig{CertFile: ca.clientCert, KeyFile: ca.serverKey}, wantErr: "private key does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
			cfg.URL = "https://127.0.0.1:1/events"
			cfg.TLS = tt.tls
			s := newSink(t, pipeline.NopSettings("collector"), cfg)
			err := s.Start(t.Context())
			require.ErrorContains(t, err, tt.wantErr)
			require.NoError(t, s.Close(t.Context()))
		})
	}
}

func TestInsecureSkipVerifyWarnsOnce(t *testing.T) {
	t.Parallel()
	cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
	cfg.URL = "https://127.0.0.1:1/events"
	cfg.TLS.InsecureSkipVerify = true
	set, logs := loggingSettings()
	startSink(t, set, cfg)
	assert.Equal(t, 1, strings.Count(logs.String(), `"level":"WARN"`))
}
