package httpsource

import (
	"errors"
	"strings"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

// Config is the HTTP source's configuration: the server part (listen,
// token, body and connection limits, timeouts, TLS; see
// httpserver.Config, inlined) and the path and batch size of the
// CloudEvents endpoint.
type Config struct {
	// Listen is the host:port to listen on. Default "127.0.0.1:8088", on
	// loopback so nothing is exposed unless asked; an empty host listens
	// on every interface and port 0 picks a free port (see Source.Addr).
	// The other server fields (token, max_body_bytes, max_inflight_bytes,
	// max_connections, read_timeout, write_timeout, idle_timeout,
	// shutdown_timeout, tls) are documented in httpserver.Config and the
	// package documentation.
	httpserver.Config `yaml:",inline"`
	// Path is the URL path that accepts events. Default "/events".
	Path string `yaml:"path"`
	// MaxBatchEvents bounds the events of one batched request (or JSON
	// array, in the json format); larger batches get 413. Default 1000.
	MaxBatchEvents int `yaml:"max_batch_events"`
	// BodyFormat holds format (cloudevents or json) and, for json,
	// event_source, event_type, event_id and event_subject.
	BodyFormat `yaml:",inline"`
}

// TLSConfig is the server side of TLS (see tlsconfig.Config): cert_file,
// key_file and optionally ca_file; the files are read by Provision.
type TLSConfig = tlsconfig.Config

func defaultConfig() *Config {
	return &Config{
		Config:         httpserver.Defaults("127.0.0.1:8088"),
		Path:           "/events",
		MaxBatchEvents: 1000,
		BodyFormat:     BodyFormat{Format: FormatCloudEvents},
	}
}

// Validate implements pipeline.Config. It checks syntax only: the TLS
// files are read by Provision, the address is bound by Run.
func (c *Config) Validate() error {
	errs := c.Config.Validate()
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	switch {
	case !strings.HasPrefix(c.Path, "/"):
		add("path", "must start with /, got %q", c.Path)
	case strings.ContainsAny(c.Path, "?# \t\r\n"):
		add("path", "must be a plain URL path without query, fragment or spaces, got %q", c.Path)
	}
	if c.MaxBatchEvents < 1 {
		add("max_batch_events", "must be at least 1, got %d", c.MaxBatchEvents)
	}
	errs = append(errs, c.validate()...)
	return errors.Join(errs...)
}

// ListenAddress returns Listen, so that the engine can check the address
// is free before it creates anything on disk.
func (c *Config) ListenAddress() string { return c.Listen }
