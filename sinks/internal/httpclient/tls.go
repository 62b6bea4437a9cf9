package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/sluice-dev/sluice/pipeline"
)

// TLSConfig is the client TLS part of a sink's configuration, whose
// fields are named tls.ca_file, tls.cert_file, tls.key_file,
// tls.server_name and tls.insecure_skip_verify in messages. Each sink
// keeps its own YAML-facing type and converts to this one.
type TLSConfig struct {
	// CAFile is a PEM bundle of CA certificates to trust instead of the
	// system roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate (chain) and key
	// for mutual TLS. Both or neither.
	CertFile string
	KeyFile  string
	// ServerName overrides the name verified in the server certificate
	// (and sent as SNI).
	ServerName string
	// InsecureSkipVerify disables certificate verification.
	InsecureSkipVerify bool
}

// ValidateKeyPair returns a pipeline.FieldError for each half of the
// client key pair that is missing (tls.cert_file without tls.key_file or
// the reverse), in that order; nil when both or neither are set. It reads
// no file: NewTLSConfig does.
func (c TLSConfig) ValidateKeyPair() []error {
	var errs []error
	if c.CertFile == "" && c.KeyFile != "" {
		errs = append(errs, pipeline.FieldErrorf("tls.cert_file", "is required with tls.key_file"))
	}
	if c.KeyFile == "" && c.CertFile != "" {
		errs = append(errs, pipeline.FieldErrorf("tls.key_file", "is required with tls.cert_file"))
	}
	return errs
}

// NewTLSConfig builds the client TLS configuration (TLS 1.2 or later),
// reading the CA bundle and the client certificate. Its errors name the
// configuration field ("tls.ca_file: ...") and are configuration errors
// for a sink's Start. InsecureSkipVerify is copied as is; warning about it
// is the caller's job.
func NewTLSConfig(c TLSConfig) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, // opt-in; the sinks log it loudly at Start
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file, tls.key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// IsVerificationError reports whether err is the server certificate
// failing verification: an unknown authority, a name mismatch or an
// invalid (expired, not yet valid) certificate. Retrying alone will not
// fix it, but an operator fixing tls.ca_file or tls.server_name will, so
// the sinks keep it transient and log it with a hint.
func IsVerificationError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}
