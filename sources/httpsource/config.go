package httpsource

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

// maxBodyLimit caps max_body_bytes: request bodies are held in memory.
const maxBodyLimit = 256 << 20

// Config is the HTTP source's configuration.
type Config struct {
	// Listen is the host:port to listen on. Default "127.0.0.1:8088", on
	// loopback so nothing is exposed unless asked; an empty host listens
	// on every interface and port 0 picks a free port (see Source.Addr).
	Listen string `yaml:"listen"`
	// Path is the URL path that accepts events. Default "/events".
	Path string `yaml:"path"`
	// Token, when set, is the bearer token every request must present in
	// "Authorization: Bearer TOKEN". It is compared in constant time and
	// never logged.
	Token pipeline.Secret `yaml:"token"`
	// MaxBodyBytes bounds a request body; larger requests get 413.
	// Default 1MiB, at most 256MiB.
	MaxBodyBytes pipeline.ByteSize `yaml:"max_body_bytes"`
	// MaxBatchEvents bounds the events of one batched request; larger
	// batches get 413. Default 1000.
	MaxBatchEvents int `yaml:"max_batch_events"`
	// ReadTimeout bounds reading a whole request, headers and body.
	// Default 10s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds handling a request, from the end of its headers
	// to the end of the response, including the durable append. Default
	// 30s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds how long a keep-alive connection waits for the
	// next request. Default 2m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful stop: requests in flight get this
	// long to finish their append before they are abandoned (and answered
	// 503). Default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TLS enables HTTPS when cert_file and key_file are set; with ca_file
	// too, clients must present a certificate it verifies (mutual TLS).
	// Off by default.
	TLS TLSConfig `yaml:"tls"`
}

// TLSConfig is the server side of TLS (see tlsconfig.Config): cert_file,
// key_file and optionally ca_file; the files are read by Provision.
type TLSConfig = tlsconfig.Config

func defaultConfig() *Config {
	return &Config{
		Listen:          "127.0.0.1:8088",
		Path:            "/events",
		MaxBodyBytes:    1 << 20,
		MaxBatchEvents:  1000,
		ReadTimeout:     10 * time.Second,
		WriteTimeout:    30 * time.Second,
		IdleTimeout:     2 * time.Minute,
		ShutdownTimeout: 10 * time.Second,
	}
}

// Validate implements pipeline.Config. It checks syntax only: the TLS
// files are read by Provision, the address is bound by Run.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if err := validateListen(c.Listen); err != nil {
		add("listen", "%w", err)
	}
	switch {
	case !strings.HasPrefix(c.Path, "/"):
		add("path", "must start with /, got %q", c.Path)
	case strings.ContainsAny(c.Path, "?# \t\r\n"):
		add("path", "must be a plain URL path without query, fragment or spaces, got %q", c.Path)
	}
	if t := c.Token.Reveal(); t != "" && strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r > '~' }) {
		add("token", "must be printable ASCII without spaces")
	}
	if c.MaxBodyBytes < 1 || c.MaxBodyBytes > maxBodyLimit {
		add("max_body_bytes", "must be between 1B and %s, got %s", pipeline.ByteSize(maxBodyLimit), c.MaxBodyBytes)
	}
	if c.MaxBatchEvents < 1 {
		add("max_batch_events", "must be at least 1, got %d", c.MaxBatchEvents)
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
	errs = append(errs, c.TLS.ValidateServer()...)
	return errors.Join(errs...)
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

// isLoopback reports whether listen binds only loopback interfaces.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// ListenAddress returns Listen, so that the engine can check the address
// is free before it creates anything on disk.
func (c *Config) ListenAddress() string { return c.Listen }
