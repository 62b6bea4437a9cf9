package httpclient_test

import (
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

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/httpclient"
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
		cfg       httpclient.TLSConfig
		wantErr   string
		wantRoots bool
		wantCerts int
	}{
		{name: "zero"},
		{name: "ca_file", cfg: httpclient.TLSConfig{CAFile: cert}, wantRoots: true},
		{name: "key pair", cfg: httpclient.TLSConfig{CertFile: cert, KeyFile: key}, wantCerts: 1},
		{name: "missing ca_file", cfg: httpclient.TLSConfig{CAFile: filepath.Join(dir, "none.pem")}, wantErr: "tls.ca_file: open "},
		{name: "ca_file not PEM", cfg: httpclient.TLSConfig{CAFile: notPEM}, wantErr: "tls.ca_file: " + notPEM + " holds no PEM certificate"},
		{name: "missing cert_file", cfg: httpclient.TLSConfig{CertFile: filepath.Join(dir, "none.crt"), KeyFile: key}, wantErr: "tls.cert_file, tls.key_file: open "},
		{name: "key does not match", cfg: httpclient.TLSConfig{CertFile: cert, KeyFile: otherKey}, wantErr: "private key does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := httpclient.NewTLSConfig(tt.cfg)
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
		got, err := httpclient.NewTLSConfig(httpclient.TLSConfig{ServerName: "sluice.test", InsecureSkipVerify: true})
		require.NoError(t, err)
		assert.Equal(t, "sluice.test", got.ServerName)
		assert.True(t, got.InsecureSkipVerify)
	})
}

func TestValidateKeyPair(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        httpclient.TLSConfig
		wantFields []string
	}{
		{name: "neither"},
		{name: "both", cfg: httpclient.TLSConfig{CertFile: "c", KeyFile: "k"}},
		{name: "key only", cfg: httpclient.TLSConfig{KeyFile: "k"}, wantFields: []string{"tls.cert_file"}},
		{name: "cert only", cfg: httpclient.TLSConfig{CertFile: "c"}, wantFields: []string{"tls.key_file"}},
	}
	for _, tt := range tests {
		errs := tt.cfg.ValidateKeyPair()
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
		assert.Equal(t, tt.want, httpclient.IsVerificationError(tt.err), tt.name)
	}
}
