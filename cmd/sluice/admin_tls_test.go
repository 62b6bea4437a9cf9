package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/tlsconfig"
)

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its
// key into dir.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice admin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

// TestAdminAPIOverTLS: with admin.api: tcp and admin.tls, the engine
// generates the token into the journal directory and serves HTTPS; the
// CLI, given --admin, reads the token, trusts admin.tls.cert_file and
// reaches the API. Plain HTTP to the TLS listener fails.
func TestAdminAPIOverTLS(t *testing.T) {
	t.Parallel()
	dir, j := heldJournal(t)
	a := testAdmin(t, j, dir)
	certFile, keyFile := writeSelfSigned(t, t.TempDir())
	cfgText := "journal: {dir: " + dir + "}\nadmin:\n  listen: 127.0.0.1:0\n  api: tcp\n  tls: {cert_file: " + certFile + ", key_file: " + keyFile + "}\n" + minimalPipeline
	cfg := filepath.Join(t.TempDir(), "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(cfgText), 0o600))
	c := config.DefaultAdminConfig()
	c.API = config.AdminAPITCP
	c.TLS = tlsconfig.Config{CertFile: certFile, KeyFile: keyFile}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	token, tlsLn, err := adminTCPSetup(context.Background(), &c, dir, ln)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, config.AdminTokenName), "the token is generated into the journal directory")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveAdmin(ctx, tlsLn, a.tcpHandler(c, token), defaultAdminTimeouts, a.log, nil) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	addr := ln.Addr().String()

	code, out, errOut := sluice(t, "journal", "tail", "-c", cfg, "--admin", addr, "-n", "1")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"id":"c"`)

	code, _, errOut = sluice(t, "journal", "tail", "--dir", dir, "--admin", "http://"+addr, "-n", "1")
	assert.Equal(t, exitJournalInUse, code, "plain HTTP to the TLS listener")
	assert.NotEmpty(t, errOut)
}
