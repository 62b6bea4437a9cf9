package lbworkersource

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/pipeline"
)

// maxRequestLimit caps max_request_bytes: requests are held in memory.
const maxRequestLimit = 64 << 20

// Config is the lbworker source's configuration. At least one transport
// must be on: Gearman (gearman.servers not empty, the default) or HTTP
// (http.enabled).
type Config struct {
	// Gearman is the Gearman worker transport, as Libra's worker used.
	Gearman GearmanConfig `yaml:"gearman"`
	// HTTP is the HTTP transport: POST one JSON request, get the reply.
	HTTP HTTPConfig `yaml:"http"`
	// MaxRequestBytes bounds one request (a job's data or an HTTP body);
	// larger requests get FAIL. Default 1MiB.
	MaxRequestBytes pipeline.ByteSize `yaml:"max_request_bytes"`
	// DedupeWindow is how many replies to requests with a unique id (the
	// Gearman job's unique, the HTTP Idempotency-Key) are remembered in
	// the source's durable state, so a resubmitted request is answered
	// with the first reply and not journaled or applied again. Default
	// 10000.
	DedupeWindow int `yaml:"dedupe_window"`
	// ShutdownTimeout bounds the requests in flight when the source stops:
	// their append may finish and their reply be sent. Default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ReplyAfter names the sinks (the haproxy sink) whose outcome the
	// reply waits for: UPDATE, SUSPEND, ENABLE, DELETE, STATS, METRICS and
	// ARCHIVE are answered once every one of them delivered the request
	// (PASS, with the fields the sink added) or gave up on it (FAIL with
	// the sink's reason), and the load balancers' state changes are
	// emitted as sluice.lb.state events. Empty (the default): PASS once
	// the request is durable; STATS, METRICS and ARCHIVE then FAIL.
	ReplyAfter []string `yaml:"reply_after" config:"sink"`
	// ReplyTimeout bounds the wait for the reply_after sinks; then the
	// reply is FAIL "not applied in time" (the request stays journaled and
	// its delivery continues). Default 20s; below http.write_timeout.
	ReplyTimeout time.Duration `yaml:"reply_timeout"`
	// Discover is what DISCOVER answers.
	Discover DiscoverConfig `yaml:"discover"`
	// Diagnostics configures DIAGNOSTICS.
	Diagnostics DiagnosticsConfig `yaml:"diagnostics"`
}

// GearmanConfig is the Gearman worker transport.
type GearmanConfig struct {
	// Servers are the gearmand host:port addresses the worker registers
	// with, all of them, as Libra did. Default ["localhost:4730"], Libra's
	// default; empty turns Gearman off.
	Servers []string `yaml:"servers"`
	// Function is the Gearman function name, which the Libra API submits
	// jobs to. Default: the host name, as Libra registered it.
	Function string `yaml:"function"`
	// ClientID is sent with SET_CLIENT_ID (shown by gearadmin --workers).
	// Default: the function name, as Libra did.
	ClientID string `yaml:"client_id"`
	// Workers is the number of connections to each server. Default 4.
	Workers int `yaml:"workers"`
	// JobsPerConnection bounds the jobs each connection works at once:
	// gearmand assigns one job per grab, and the connection grabs the
	// next while earlier jobs are still being journaled, so that up to
	// workers × jobs_per_connection requests per server share the
	// journal's group commits (docs/benchmarks.md). 1 is one job at a
	// time, as Libra's worker did. Default 16.
	JobsPerConnection int `yaml:"jobs_per_connection"`
	// DialTimeout bounds connecting to a server. Default 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// Reconnect is the backoff between reconnects: 1s doubling to 60s
	// (Libra's reconnect_sleep) by default, retried forever.
	Reconnect pipeline.RetryConfig `yaml:"reconnect"`
}

// HTTPConfig is the HTTP transport.
type HTTPConfig struct {
	// Enabled turns the HTTP transport on. Default false.
	Enabled bool `yaml:"enabled"`
	// Path is the URL path that accepts requests. Default "/lbaas".
	Path string `yaml:"path"`
	// Config is the shared HTTP server plumbing (internal/httpserver, as
	// the http source), inlined: listen (default "127.0.0.1:8089",
	// loopback so nothing is exposed unless asked; port 0 picks a free
	// port), token (the bearer token every request must present, compared
	// in constant time, never logged), allowed_hosts (the Host names
	// accepted besides loopback ones and the listen host; DNS rebinding
	// and cross-site requests get 403), max_inflight_bytes,
	// max_connections, read_timeout, write_timeout (to the end of the
	// reply, including the append and the reply_after wait), idle_timeout,
	// shutdown_timeout and tls. Its max_body_bytes is not set here:
	// max_request_bytes bounds HTTP bodies and Gearman jobs.
	httpserver.Config `yaml:",inline"`
}

// DiscoverConfig is DISCOVER's reply. Libra sent its pbr version and
// release; Sluice sends these.
type DiscoverConfig struct {
	// Version is "<major>.<minor>". Default "1.0".
	Version string `yaml:"version"`
	// Release is the full release string. Default "1.0.0".
	Release string `yaml:"release"`
}

// DiagnosticsConfig configures DIAGNOSTICS, which TCP-connects to every
// Gearman server and to a network target, as Libra did.
type DiagnosticsConfig struct {
	// NetworkTarget is the host:port of the outgoing network check.
	// Default "google.com:80", Libra's; empty leaves "network" out of the
	// reply.
	NetworkTarget string `yaml:"network_target"`
	// Timeout bounds each connect. Default 5s, Libra's.
	Timeout time.Duration `yaml:"timeout"`
}

var _ pipeline.Config = (*Config)(nil)

func defaultConfig() *Config {
	reconnect := pipeline.RetryConfig{Initial: time.Second, Max: 60 * time.Second, Multiplier: 2, Jitter: 0.2}
	return &Config{
		Gearman: GearmanConfig{
			Servers:           []string{"localhost:4730"},
			Workers:           4,
			JobsPerConnection: 16,
			DialTimeout:       5 * time.Second,
			Reconnect:         reconnect,
		},
		HTTP:            HTTPConfig{Path: "/lbaas", Config: httpConfigDefaults()},
		MaxRequestBytes: 1 << 20,
		DedupeWindow:    10000,
		ReplyTimeout:    20 * time.Second,
		ShutdownTimeout: 10 * time.Second,
		Discover:        DiscoverConfig{Version: "1.0", Release: "1.0.0"},
		Diagnostics:     DiagnosticsConfig{NetworkTarget: "google.com:80", Timeout: 5 * time.Second},
	}
}

// Validate implements pipeline.Config. It checks syntax only.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if len(c.Gearman.Servers) == 0 && !c.HTTP.Enabled {
		add("gearman.servers", "must not be empty unless http.enabled is true: the source needs a transport")
	}
	for i, s := range c.Gearman.Servers {
		if err := validateHostPort(s, false); err != nil {
			add("gearman.servers["+strconv.Itoa(i)+"]", "%w", err)
		}
	}
	if strings.ContainsAny(c.Gearman.Function, "\x00\r\n") || len(c.Gearman.Function) > 255 {
		add("gearman.function", "must be at most 255 bytes without NUL or line breaks")
	}
	if strings.ContainsAny(c.Gearman.ClientID, "\x00\r\n ") || len(c.Gearman.ClientID) > 255 {
		add("gearman.client_id", "must be at most 255 bytes without NUL, spaces or line breaks")
	}
	if c.Gearman.Workers < 1 || c.Gearman.Workers > 256 {
		add("gearman.workers", "must be between 1 and 256, got %d", c.Gearman.Workers)
	}
	if c.Gearman.JobsPerConnection < 1 || c.Gearman.JobsPerConnection > 1024 {
		add("gearman.jobs_per_connection", "must be between 1 and 1024, got %d", c.Gearman.JobsPerConnection)
	}
	if c.Gearman.DialTimeout <= 0 {
		add("gearman.dial_timeout", "must be positive, got %s", c.Gearman.DialTimeout)
	}
	if err := c.Gearman.Reconnect.Validate(); err != nil {
		errs = append(errs, pipeline.PrefixFieldErrors("gearman.reconnect", err))
	}
	if c.HTTP.MaxBodyBytes != 0 {
		add("http.max_body_bytes", "is max_request_bytes for this source (it bounds Gearman jobs too): set that instead")
	}
	if c.HTTP.Enabled {
		if !strings.HasPrefix(c.HTTP.Path, "/") || strings.ContainsAny(c.HTTP.Path, "?# \t\r\n") {
			add("http.path", "must be a plain URL path starting with /, got %q", c.HTTP.Path)
		}
		srv := c.serverConfig()
		if srvErrs := srv.Validate(); len(srvErrs) > 0 {
			errs = append(errs, pipeline.PrefixFieldErrors("http", errors.Join(srvErrs...)))
		}
	}
	if c.MaxRequestBytes < 64 || c.MaxRequestBytes > maxRequestLimit {
		add("max_request_bytes", "must be between 64B and %s, got %s", pipeline.ByteSize(maxRequestLimit), c.MaxRequestBytes)
	}
	if c.DedupeWindow < 1 {
		add("dedupe_window", "must be at least 1, got %d", c.DedupeWindow)
	}
	for i, name := range c.ReplyAfter {
		if name == "" || slices.Contains(c.ReplyAfter[:i], name) {
			add("reply_after["+strconv.Itoa(i)+"]", "must name a sink once, got %q", name)
		}
	}
	if c.ReplyTimeout <= 0 {
		add("reply_timeout", "must be positive, got %s", c.ReplyTimeout)
	} else if c.HTTP.Enabled && len(c.ReplyAfter) > 0 && c.ReplyTimeout >= c.HTTP.WriteTimeout {
		add("reply_timeout", "must be below http.write_timeout (%s), or the HTTP server drops the reply, got %s", c.HTTP.WriteTimeout, c.ReplyTimeout)
	}
	if c.ShutdownTimeout <= 0 {
		add("shutdown_timeout", "must be positive, got %s", c.ShutdownTimeout)
	}
	if c.Discover.Version == "" {
		add("discover.version", "must not be empty")
	}
	if c.Discover.Release == "" {
		add("discover.release", "must not be empty")
	}
	if c.Diagnostics.NetworkTarget != "" {
		if err := validateHostPort(c.Diagnostics.NetworkTarget, false); err != nil {
			add("diagnostics.network_target", "%w", err)
		}
	}
	if c.Diagnostics.Timeout <= 0 {
		add("diagnostics.timeout", "must be positive, got %s", c.Diagnostics.Timeout)
	}
	return errors.Join(errs...)
}

// validateHostPort checks host:port with a numeric port (0 only when
// listening) and a non-empty host unless listening.
func validateHostPort(s string, listen bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("must be host:port, got " + strconv.Quote(s))
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || (n == 0 && !listen) {
		return errors.New("port must be a number from 1 to 65535, got " + strconv.Quote(port))
	}
	if host == "" && !listen {
		return errors.New("host must not be empty, got " + strconv.Quote(s))
	}
	if strings.ContainsAny(host, " /\t\r\n") {
		return errors.New("host must be an IP address or a DNS name, got " + strconv.Quote(host))
	}
	return nil
}

// httpConfigDefaults is the HTTP transport's server defaults: those of
// internal/httpserver on 127.0.0.1:8089, max_body_bytes left to
// max_request_bytes.
func httpConfigDefaults() httpserver.Config {
	c := httpserver.Defaults("127.0.0.1:8089")
	c.MaxBodyBytes = 0
	return c
}

// serverConfig is the HTTP server's configuration: http's, with
// max_request_bytes as its body limit.
func (c *Config) serverConfig() httpserver.Config {
	srv := c.HTTP.Config
	srv.MaxBodyBytes = c.MaxRequestBytes
	return srv
}
