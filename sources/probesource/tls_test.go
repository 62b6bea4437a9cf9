package probesource_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// testPKI is a self-signed CA made for one test, with a server
// certificate for 127.0.0.1 and a client certificate, as PEM files.
type testPKI struct {
	pool                      *x509.CertPool
	caFile                    string
	serverCert                tls.Certificate
	clientCertFile, clientKey string
	otherCAFile               string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert, caDER := newCA(t, "sluice test CA")
	p := &testPKI{pool: x509.NewCertPool(), caFile: filepath.Join(dir, "ca.pem")}
	p.pool.AddCert(caCert)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	_, _, otherDER := newCA(t, "another CA")
	p.otherCAFile = filepath.Join(dir, "other.pem")
	writePEM(t, p.otherCAFile, "CERTIFICATE", otherDER)

	srvKey, srvDER := newLeaf(t, caKey, caCert, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"health.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	p.serverCert = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}

	cliKey, cliDER := newLeaf(t, caKey, caCert, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "sluice-probe"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	p.clientCertFile, p.clientKey = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writePEM(t, p.clientCertFile, "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	require.NoError(t, err)
	writePEM(t, p.clientKey, "EC PRIVATE KEY", keyDER)
	return p
}

func newCA(t *testing.T, name string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
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
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return key, cert, der
}

func newLeaf(t *testing.T, caKey *ecdsa.PrivateKey, ca, tmpl *x509.Certificate) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	return key, der
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// TestHTTPSWithSelfSignedCA checks verification against a CA made in the
// test: on by default, the CA file trusted, the wrong CA and a wrong name
// refused, and mutual TLS with a client certificate.
func TestHTTPSWithSelfSignedCA(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	quiet := log.New(io.Discard, "", 0) // failed handshakes are what some cases test
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = quiet
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.serverCert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	mtls := httptest.NewUnstartedServer(handler)
	mtls.Config.ErrorLog = quiet
	mtls.TLS = &tls.Config{
		Certificates: []tls.Certificate{pki.serverCert}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool,
	}
	mtls.StartTLS()
	t.Cleanup(mtls.Close)

	tests := []struct {
		name    string
		url     string
		tls     string
		healthy bool
		err     string
	}{
		{name: "system roots do not know the CA", url: srv.URL, err: "certificate signed by unknown authority"},
		{name: "CA file", url: srv.URL, tls: fmt.Sprintf("{ca_file: %q}", pki.caFile), healthy: true},
		{name: "another CA", url: srv.URL, tls: fmt.Sprintf("{ca_file: %q}", pki.otherCAFile), err: "certificate signed by unknown authority"},
		{name: "server name checked", url: srv.URL, tls: fmt.Sprintf("{ca_file: %q, server_name: other.test}", pki.caFile), err: "certificate is valid for health.test, not other.test"},
		{name: "server name override", url: srv.URL, tls: fmt.Sprintf("{ca_file: %q, server_name: health.test}", pki.caFile), healthy: true},
		{name: "insecure", url: srv.URL, tls: "{insecure_skip_verify: true}", healthy: true},
		{name: "client certificate", url: mtls.URL, tls: fmt.Sprintf("{ca_file: %q, cert_file: %q, key_file: %q}", pki.caFile, pki.clientCertFile, pki.clientKey), healthy: true},
		{name: "client certificate missing", url: mtls.URL, tls: fmt.Sprintf("{ca_file: %q}", pki.caFile), err: "certificate required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := fmt.Sprintf("{kind: https, url: %q, interval: 50ms, timeout: 5s, failure_threshold: 1", tt.url)
			if tt.tls != "" {
				cfg += ", tls: " + tt.tls
			}
			d := firstState(t, cfg+"}")
			assert.Equal(t, tt.healthy, d.Healthy, d.Error)
			if !tt.healthy {
				assert.Contains(t, d.Error, tt.err)
			}
		})
	}
}

// TestTLSFilesCheckedAtProvision checks that unreadable TLS files fail
// the source's Provision (and Run, when nobody provisioned it) with a
// clear error, and that building it reads nothing.
func TestTLSFilesCheckedAtProvision(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	for name, tc := range map[string]struct{ tls, err string }{
		"missing CA":  {fmt.Sprintf("{ca_file: %q}", filepath.Join(dir, "nope.pem")), "tls.ca_file: open"},
		"not PEM":     {fmt.Sprintf("{ca_file: %q}", notPEM), "tls.ca_file: no PEM certificate"},
		"bad keypair": {fmt.Sprintf("{cert_file: %q, key_file: %q}", notPEM, notPEM), "tls.cert_file:"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := decode(t, "{kind: https, url: 'https://127.0.0.1/', tls: "+tc.tls+"}")
			require.NoError(t, err)
			src, err := probesource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("probe"), cfg)
			require.NoError(t, err, "building reads no file")
			p, ok := src.(pipeline.Provisioner)
			require.True(t, ok, "the probe source is a pipeline.Provisioner")
			err = p.Provision(t.Context())
			require.ErrorContains(t, err, tc.err)
			require.ErrorContains(t, err, `probe "probe"`)
			err = src.Run(t.Context(), pipelinetest.NewRecordingHost("probe"))
			require.ErrorContains(t, err, tc.err, "Run provisions a source nobody provisioned")
		})
	}
}
