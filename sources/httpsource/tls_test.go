package httpsource_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/httpsource"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sluice test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := writeCert(t)
	srv := startServer(t, withConfig(func(c *httpsource.Config) {
		c.TLS = httpsource.TLSConfig{CertFile: certFile, KeyFile: keyFile}
	}))
	srv.client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	got := srv.do(t, structured(validEvent))
	assert.Equal(t, http.StatusAccepted, got.status)
	assert.Len(t, srv.host.Events(), 1)
}

func TestTLSBadCertificate(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig(t)
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = httpsource.TLSConfig{CertFile: filepath.Join(t.TempDir(), "missing.crt"), KeyFile: "missing.key"}
	src, err := httpsource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("web"), cfg)
	require.NoError(t, err)
	err = src.Run(t.Context(), pipelinetest.NewRecordingHost("web"))
	require.ErrorContains(t, err, "load tls certificate")
}

// TestProvisionReadsTLS checks that the certificate is read by
// Provision, before Run binds anything, and that Validate reads nothing.
func TestProvisionReadsTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _ := writeCert(t)
	missing := filepath.Join(t.TempDir(), "missing.crt")
	tests := []struct {
		name    string
		tls     httpsource.TLSConfig
		wantErr string
	}{
		{name: "certificate", tls: httpsource.TLSConfig{CertFile: certFile, KeyFile: keyFile}},
		{name: "missing certificate", tls: httpsource.TLSConfig{CertFile: missing, KeyFile: keyFile}, wantErr: "load tls certificate: tls.cert_file: open " + missing},
		{name: "missing client CA", tls: httpsource.TLSConfig{CAFile: missing, CertFile: certFile, KeyFile: keyFile}, wantErr: "tls.ca_file: open " + missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := defaultConfig(t)
			cfg.TLS = tt.tls
			require.NoError(t, cfg.Validate(), "Validate reads no file")
			src, err := httpsource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("web"), cfg)
			require.NoError(t, err)
			p, ok := src.(interface{ Provision(context.Context) error })
			require.True(t, ok, "the http source is a pipeline.Provisioner")
			err = p.Provision(t.Context())
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
}
