package httpserver

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

// MaxBodyLimit caps max_body_bytes.
const MaxBodyLimit = 256 << 20

// Config is the server part of a component's configuration, inlined in
// its YAML (the http source; the LB worker's HTTP transport). Defaults
// returns the defaults of every field but Listen, which the component
// chooses.
type Config struct {
	// Listen is the host:port to listen on. An empty host listens on
	// every interface and port 0 picks a free port.
	Listen string `yaml:"listen"`
	// Token, when set, is the bearer token every request must present in
	// "Authorization: Bearer TOKEN". It is compared in constant time and
	// never logged.
	Token pipeline.Secret `yaml:"token"`
	// MaxBodyBytes bounds a request body; larger requests get 413.
	// Default 1MiB, at most 256MiB.
	MaxBodyBytes pipeline.ByteSize `yaml:"max_body_bytes"`
	// MaxInflightBytes bounds the bytes of request bodies read and held
	// by all the requests in flight together; a request that would go
	// beyond it gets 503 with Retry-After: 1 (before its body is read
	// when it announces its length). Default 32MiB; at least
	// max_body_bytes.
	MaxInflightBytes pipeline.ByteSize `yaml:"max_inflight_bytes"`
	// MaxConnections bounds the connections open at once, idle
	// keep-alive ones included; beyond it new connections wait in the
	// listen backlog until one closes. Default 1024.
	MaxConnections int `yaml:"max_connections"`
	// ReadTimeout bounds reading a whole request, headers and body.
	// Default 10s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds handling a request, from the end of its headers
	// to the end of the response. Default 30s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds how long a keep-alive connection waits for the
	// next request. Default 2m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful stop: requests in flight get this
	// long to finish before they are abandoned. Default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TLS enables HTTPS when cert_file and key_file are set; with ca_file
	// too, clients must present a certificate it verifies (mutual TLS).
	// Off by default. Read by Provision.
	TLS tlsconfig.Config `yaml:"tls"`
	// AllowedHosts are the names, besides loopback ones and the listen
	// address's host, that clients may send as Host: DNS names, IP
	// addresses, "*.example.com" for the names under example.com, "*" for
	// any. Requests with another Host, and browser requests from another
	// site's page, are refused with 403 (Guard).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// Defaults returns the default configuration, listening on listen.
func Defaults(listen string) Config {
	return Config{
		Listen:           listen,
		MaxBodyBytes:     1 << 20,
		MaxInflightBytes: 32 << 20,
		MaxConnections:   1024,
		ReadTimeout:      10 * time.Second,
		WriteTimeout:     30 * time.Second,
		IdleTimeout:      2 * time.Minute,
		ShutdownTimeout:  10 * time.Second,
	}
}

// Validate returns a pipeline.FieldError for each field that is wrong on
// its face. It reads no file and binds nothing.
func (c *Config) Validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if err := validateListen(c.Listen); err != nil {
		add("listen", "%w", err)
	}
	if t := c.Token.Reveal(); t != "" && strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r > '~' }) {
		add("token", "must be printable ASCII without spaces")
	}
	if c.MaxBodyBytes < 1 || c.MaxBodyBytes > MaxBodyLimit {
		add("max_body_bytes", "must be between 1B and %s, got %s", pipeline.ByteSize(MaxBodyLimit), c.MaxBodyBytes)
	} else if c.MaxInflightBytes < c.MaxBodyBytes {
		add("max_inflight_bytes", "must be at least max_body_bytes (%s), got %s", c.MaxBodyBytes, c.MaxInflightBytes)
	}
	if c.MaxConnections < 1 {
		add("max_connections", "must be at least 1, got %d", c.MaxConnections)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"read_timeout", c.ReadTimeout},
		{"write_timeout", c.WriteTimeout},
		{"idle_timeout", c.IdleTimeout},
		{"shutdown_timeout", c.ShutdownTimeout},
	} {
		if d.v <= 0 {
			add(d.field, "must be positive, got %s", d.v)
		}
	}
	errs = append(errs, ValidateAllowedHosts("allowed_hosts", c.AllowedHosts)...)
	return append(errs, c.TLS.ValidateServer()...)
}

// TLSEnabled reports whether the server speaks HTTPS.
func (c *Config) TLSEnabled() bool { return !c.TLS.IsZero() }

// Loopback reports whether Listen binds only loopback interfaces.
func (c *Config) Loopback() bool {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// validateListen checks a host:port with a numeric port and an IP address,
// a DNS name or an empty host.
func validateListen(listen string) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return errors.New("must be host:port, e.g. 127.0.0.1:8088, got " + strconv.Quote(listen))
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return errors.New("port must be a number from 0 to 65535, got " + strconv.Quote(port))
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !validHostname(host) {
		return errors.New("host must be an IP address or a DNS name, got " + strconv.Quote(host))
	}
	return nil
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}
