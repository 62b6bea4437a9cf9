package tlsconfig_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

// writeCert writes a self-signed certificate and its key as PEM files
// under dir and returns their paths.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

func TestNewTLSConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "one")
	_, otherKey := writeCert(t, dir, "two")
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))

	tests := []struct {
		name      string
		cfg       tlsconfig.Config
		wantErr   string
		wantRoots bool
		wantCerts int
	}{
		{name: "zero"},
		{name: "ca_file", cfg: tlsconfig.Config{CAFile: cert}, wantRoots: true},
		{name: "key pair", cfg: tlsconfig.Config{CertFile: cert, KeyFile: key}, wantCerts: 1},
		{name: "missing ca_file", cfg: tlsconfig.Config{CAFile: filepath.Join(dir, "none.pem")}, wantErr: "tls.ca_file: open "},
		{name: "ca_file not PEM", cfg: tlsconfig.Config{CAFile: notPEM}, wantErr: "tls.ca_file: no PEM certificate in " + notPEM},
		{name: "missing cert_file", cfg: tlsconfig.Config{CertFile: filepath.Join(dir, "none.crt"), KeyFile: key}, wantErr: "tls.cert_file: open "},
		{name: "missing key_file", cfg: tlsconfig.Config{CertFile: cert, KeyFile: filepath.Join(dir, "none.key")}, wantErr: "tls.key_file: open "},
		{name: "key does not match", cfg: tlsconfig.Config{CertFile: cert, KeyFile: otherKey}, wantErr: "private key does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			err := cfg.Provision(t.Context())
			var got *tls.Config
			if err == nil {
				got, err = cfg.Client()
			}
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, uint16(tls.VersionTLS12), got.MinVersion)
			assert.Equal(t, tt.wantRoots, got.RootCAs != nil)
			assert.Len(t, got.Certificates, tt.wantCerts)
		})
	}

	t.Run("copies server_name and insecure_skip_verify", func(t *testing.T) {
		t.Parallel()
		cfg := tlsconfig.Config{ServerName: "sluice.test", InsecureSkipVerify: true}
		got, err := cfg.Client()
		require.NoError(t, err)
		assert.Equal(t, "sluice.test", got.ServerName)
		assert.True(t, got.InsecureSkipVerify)
	})
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        tlsconfig.Config
		server     bool
		wantFields []string
	}{
		{name: "neither"},
		{name: "both", cfg: tlsconfig.Config{CertFile: "c", KeyFile: "k"}},
		{name: "key only", cfg: tlsconfig.Config{KeyFile: "k"}, wantFields: []string{"tls.cert_file"}},
		{name: "cert only", cfg: tlsconfig.Config{CertFile: "c"}, wantFields: []string{"tls.key_file"}},
		{name: "insecure with a CA", cfg: tlsconfig.Config{CAFile: "ca", InsecureSkipVerify: true}, wantFields: []string{"tls.insecure_skip_verify"}},
		{name: "server: neither", server: true},
		{name: "server: pair and client CA", server: true, cfg: tlsconfig.Config{CAFile: "ca", CertFile: "c", KeyFile: "k"}},
		{name: "server: client CA without a certificate", server: true, cfg: tlsconfig.Config{CAFile: "ca"}, wantFields: []string{"tls.cert_file"}},
		{name: "server: key only", server: true, cfg: tlsconfig.Config{KeyFile: "k"}, wantFields: []string{"tls.cert_file"}},
		{
			name: "server: client settings", server: true,
			cfg:        tlsconfig.Config{CertFile: "c", KeyFile: "k", ServerName: "x", InsecureSkipVerify: true},
			wantFields: []string{"tls.server_name", "tls.insecure_skip_verify"},
		},
	}
	for _, tt := range tests {
		errs := tt.cfg.Validate()
		if tt.server {
			errs = tt.cfg.ValidateServer()
		}
		var fields []string
		for _, err := range errs {
			var fe *pipeline.FieldError
			require.ErrorAs(t, err, &fe, tt.name)
			fields = append(fields, fe.Field)
		}
		assert.Equal(t, tt.wantFields, fields, tt.name)
	}
}

func TestIsVerificationError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"unknown authority", x509.UnknownAuthorityError{}, true},
		{"hostname", x509.HostnameError{Host: "x"}, true},
		{"invalid", x509.CertificateInvalidError{Reason: x509.Expired}, true},
		{"verification", &tls.CertificateVerificationError{Err: errors.New("bad")}, true},
		{"wrapped", fmt.Errorf("dial: %w", &url.Error{Op: "Post", URL: "https://x", Err: x509.UnknownAuthorityError{}}), true},
		{"other", errors.New("connection refused"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tlsconfig.IsVerificationError(tt.err), tt.name)
	}
}

func TestNotProvisioned(t *testing.T) {
	t.Parallel()
	zero := tlsconfig.Config{ServerName: "x"}
	got, err := zero.Client()
	require.NoError(t, err, "nothing to read: a zero config needs no Provision")
	assert.Equal(t, "x", got.ServerName)
	assert.False(t, got.InsecureSkipVerify, "verification is on by default")

	cfg := tlsconfig.Config{CAFile: "/nonexistent"}
	assert.False(t, cfg.Provisioned())
	_, err = cfg.Client()
	require.ErrorIs(t, err, tlsconfig.ErrNotProvisioned)
	_, err = cfg.Server()
	require.ErrorIs(t, err, tlsconfig.ErrNotProvisioned)
}

func TestProvisionHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cfg := tlsconfig.Config{CAFile: "/nonexistent"}
	require.ErrorIs(t, cfg.Provision(ctx), context.Canceled)
}

func TestServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "srv")

	noCert := tlsconfig.Config{}
	_, err := noCert.Server()
	require.ErrorContains(t, err, "a server needs a certificate")

	plain := tlsconfig.Config{CertFile: cert, KeyFile: key}
	require.NoError(t, plain.Provision(t.Context()))
	got, err := plain.Server("http/1.1")
	require.NoError(t, err)
	assert.Len(t, got.Certificates, 1)
	assert.Equal(t, []string{"http/1.1"}, got.NextProtos)
	assert.Equal(t, uint16(tls.VersionTLS12), got.MinVersion)
	assert.Equal(t, tls.NoClientCert, got.ClientAuth)

	mutual := tlsconfig.Config{CAFile: cert, CertFile: cert, KeyFile: key}
	require.NoError(t, mutual.Provision(t.Context()))
	got, err = mutual.Server()
	require.NoError(t, err)
	assert.Equal(t, tls.RequireAndVerifyClientCert, got.ClientAuth)
	assert.NotNil(t, got.ClientCAs)
}
