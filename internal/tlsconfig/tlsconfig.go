package tlsconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/sluice-dev/sluice/pipeline"
)

// ErrNotProvisioned is returned by Client and Server when the
// configuration names files that Provision has not read yet.
var ErrNotProvisioned = errors.New("tls: files not read yet (Provision was not called)")

// Config is the TLS part of a component's configuration, under the YAML
// key tls, for clients (sinks, probes) and servers (the http source)
// alike. Messages name its fields tls.ca_file, tls.cert_file,
// tls.key_file, tls.server_name and tls.insecure_skip_verify.
//
// Validate checks the fields without reading anything; Provision reads
// the files; Client and Server then build a *tls.Config from what was
// read. A Config is not safe for concurrent Provision; Client and Server
// may be called concurrently once Provision returned.
type Config struct {
	// CAFile is a PEM bundle of CA certificates. A client trusts them
	// instead of the system roots; a server requires every client to
	// present a certificate signed by one of them (mutual TLS).
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM certificate (chain) and its key: a
	// client's certificate for mutual TLS, or a server's certificate.
	// Both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name a client verifies in the server
	// certificate (and sends as SNI). Default: the URL's host. Client only.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables a client's verification of the server
	// certificate. Default false: certificates are verified. For tests
	// only; components log a warning when it is set. Client only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`

	loaded *material
}

// material is what Provision read.
type material struct {
	roots *x509.CertPool
	certs []tls.Certificate
}

// IsZero reports whether no field is set.
func (c *Config) IsZero() bool {
	return c.CAFile == "" && c.CertFile == "" && c.KeyFile == "" && c.ServerName == "" && !c.InsecureSkipVerify
}

// Validate returns a pipeline.FieldError for each field of a client
// configuration that is wrong on its face: one half of the key pair
// without the other, and insecure_skip_verify with ca_file (verify with
// the CA instead). It reads no file.
func (c *Config) Validate() []error {
	errs := c.validateKeyPair()
	if c.InsecureSkipVerify && c.CAFile != "" {
		errs = append(errs, pipeline.FieldErrorf("tls.insecure_skip_verify", "cannot be combined with tls.ca_file (verify with the CA instead)"))
	}
	return errs
}

// ValidateServer is Validate for a server configuration: the key pair is
// required as soon as anything is set, and the client-only fields are
// refused. It reads no file.
func (c *Config) ValidateServer() []error {
	errs := c.validateKeyPair()
	if c.CertFile == "" && c.KeyFile == "" && c.CAFile != "" {
		errs = append(errs, pipeline.FieldErrorf("tls.cert_file", "is required with tls.ca_file (the server certificate)"))
	}
	if c.ServerName != "" {
		errs = append(errs, pipeline.FieldErrorf("tls.server_name", "is a client setting; a server has none"))
	}
	if c.InsecureSkipVerify {
		errs = append(errs, pipeline.FieldErrorf("tls.insecure_skip_verify", "is a client setting; a server has none"))
	}
	return errs
}

func (c *Config) validateKeyPair() []error {
	var errs []error
	if c.CertFile == "" && c.KeyFile != "" {
		errs = append(errs, pipeline.FieldErrorf("tls.cert_file", "is required with tls.key_file"))
	}
	if c.KeyFile == "" && c.CertFile != "" {
		errs = append(errs, pipeline.FieldErrorf("tls.key_file", "is required with tls.cert_file"))
	}
	return errs
}

// Provision reads the CA bundle and the key pair the configuration names.
// Its errors name the field ("tls.ca_file: ...", "tls.cert_file: ...",
// "tls.key_file: ...") and never hold a key. It may be called again (after
// a certificate was renewed, say) and replaces what was read.
func (c *Config) Provision(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var m material
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls.ca_file: no PEM certificate in %s", c.CAFile)
		}
		m.roots = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		certPEM, err := os.ReadFile(c.CertFile)
		if err != nil {
			return fmt.Errorf("tls.cert_file: %w", err)
		}
		keyPEM, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return fmt.Errorf("tls.key_file: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return fmt.Errorf("tls.cert_file: %s with tls.key_file %s: %w", c.CertFile, c.KeyFile, err)
		}
		m.certs = []tls.Certificate{cert}
	}
	c.loaded = &m
	return nil
}

// Provisioned reports whether Provision succeeded, or nothing needs
// reading.
func (c *Config) Provisioned() bool {
	return c.loaded != nil || (c.CAFile == "" && c.CertFile == "" && c.KeyFile == "")
}

// Client returns a new client TLS configuration (TLS 1.2 or later) from
// what Provision read: the CA bundle replaces the system roots, the key
// pair is offered to servers that ask, ServerName and InsecureSkipVerify
// are copied (warning about the latter is the caller's job). It returns
// ErrNotProvisioned when files are named but Provision did not read them.
func (c *Config) Client() (*tls.Config, error) {
	m, err := c.material()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            m.roots,
		Certificates:       m.certs,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // off by default; the operator asked for it and is warned
	}, nil
}

// Server returns a new server TLS configuration (TLS 1.2 or later) with
// the certificate Provision read, speaking the given ALPN protocols
// (none: Go's default). With a CA bundle, clients must present a
// certificate it verifies. It returns ErrNotProvisioned when Provision
// did not read the files, and an error when no certificate is configured.
func (c *Config) Server(nextProtos ...string) (*tls.Config, error) {
	m, err := c.material()
	if err != nil {
		return nil, err
	}
	if len(m.certs) == 0 {
		return nil, errors.New("tls.cert_file: a server needs a certificate")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: m.certs, NextProtos: nextProtos}
	if m.roots != nil {
		cfg.ClientCAs = m.roots
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

func (c *Config) material() (*material, error) {
	if c.loaded != nil {
		return c.loaded, nil
	}
	if !c.Provisioned() {
		return nil, ErrNotProvisioned
	}
	return &material{}, nil
}

// IsVerificationError reports whether err is the server certificate
// failing verification: an unknown authority, a name mismatch or an
// invalid (expired, not yet valid) certificate. Retrying alone will not
// fix it, but an operator fixing tls.ca_file or tls.server_name will, so
// callers keep it transient and log it with a hint.
func IsVerificationError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}
