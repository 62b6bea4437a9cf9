package probesource

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// loadTLS builds a client tls.Config: verification on unless
// InsecureSkipVerify, the CA file replacing the system roots, and an
// optional client certificate.
func loadTLS(c TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // off by default; the operator asked for it
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %w", errors.New("no PEM certificate in "+c.CAFile))
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// newTransport returns the HTTP transport shared by the probes with the
// same TLS and keep-alive settings. It never uses a proxy (a health probe
// checks the target, not the path through a proxy; WALinuxAgent does the
// same for the host plugin), speaks HTTP/1.1, and asks for no compression
// (body matching sees the bytes the server sent). With keep-alive it
// keeps idle connections for reuse: up to 32 per host, so that a burst of
// probes of one server (after a pause of the process) does not churn
// connections, and 256 in all, which bounds their memory (about 20 KiB
// each) whatever the number of targets. At most 64 connections per host
// are open at once: when the process was starved and a thousand probes of
// one server fall due together, the excess waits for a connection (within
// its timeout) instead of opening a thousand. Each check's context bounds
// dialing, TLS and reading.
func newTransport(tc *tls.Config, keepAlive bool) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{KeepAlive: -1}).DialContext,
		TLSClientConfig:        tc,
		ForceAttemptHTTP2:      false,
		DisableCompression:     true,
		DisableKeepAlives:      !keepAlive,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    32,
		MaxConnsPerHost:        64,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}
