package httpsource_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sources/httpsource"
)

// writeClientCert writes a self-signed client certificate (its own CA)
// and returns its file and the key pair.
func writeClientCert(t *testing.T) (string, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "producer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "client.crt")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return file, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestMutualTLS checks that tls.ca_file makes the source require client
// certificates it verifies.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := writeCert(t)
	caFile, clientCert := writeClientCert(t)
	srv := startServer(t, withConfig(func(c *httpsource.Config) {
		c.TLS = httpsource.TLSConfig{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}
	}))
	tr := srv.client.Transport.(*http.Transport)
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	_, err := srv.post(t.Context(), structured(validEvent))
	require.Error(t, err, "no client certificate, no request")

	tr.CloseIdleConnections()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{clientCert}}
	got := srv.do(t, structured(validEvent))
	assert.Equal(t, http.StatusAccepted, got.status)
	assert.Len(t, srv.host.Events(), 1)
}
