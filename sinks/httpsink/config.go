package httpsink

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/partial"
)

// Mode is how events are laid out in request bodies.
type Mode string

const (
	// ModeStructured sends one event per request in the CloudEvents JSON
	// structured mode (Content-Type application/cloudevents+json).
	ModeStructured Mode = "structured"
	// ModeBatch sends a JSON array of events per request (Content-Type
	// application/cloudevents-batch+json), bounded by max_events and
	// max_bytes.
	ModeBatch Mode = "batch"
)

// Ordering says what the sink does after a request of a batch failed
// transiently (partial.Ordering).
type Ordering = partial.Ordering

// The orderings; strict is the default.
const (
	OrderingStrict  = partial.OrderingStrict
	OrderingRelaxed = partial.OrderingRelaxed
)

// Config is the HTTP sink's configuration.
type Config struct {
	// URL is where events are sent: an http or https URL with a host.
	// Required. It must not carry credentials (use Basic or BearerToken).
	URL string `yaml:"url"`
	// Method is the request method: POST (default), PUT or PATCH.
	Method string `yaml:"method"`
	// Mode is "structured" (default: one event per request) or "batch".
	Mode Mode `yaml:"mode"`
	// Ordering is "strict" (default: events reach the peer in journal
	// order) or "relaxed" (after a transient failure the rest of the batch
	// is still sent; the failed events are retried after later ones).
	Ordering Ordering `yaml:"ordering"`
	// MaxEvents bounds the events of one request in batch mode; a larger
	// Deliver batch is split into several requests sent in order. Default
	// 100. Ignored in structured mode.
	MaxEvents int `yaml:"max_events"`
	// MaxBytes bounds the body of one request in batch mode. Default 1MiB.
	// An event that alone exceeds it is sent in a request of its own.
	// Ignored in structured mode.
	MaxBytes pipeline.ByteSize `yaml:"max_bytes"`
	// Headers are added to every request. Values are secrets (they never
	// print), so API keys may go here. Hop-by-hop headers and the headers
	// the sink sets itself (Content-Length, Content-Type, Host,
	// Idempotency-Key, traceparent, tracestate) are refused, and so is
	// Authorization when Basic or BearerToken is set.
	Headers map[string]pipeline.Secret `yaml:"headers"`
	// Basic enables HTTP Basic authentication.
	Basic *BasicAuth `yaml:"basic"`
	// BearerToken sends "Authorization: Bearer TOKEN". Use ${VAR} or
	// ${file:/path} in the config file, or BearerTokenFile.
	BearerToken pipeline.Secret `yaml:"bearer_token"`
	// BearerTokenFile is a file holding the bearer token, read by Provision
	// (one trailing newline is dropped).
	BearerTokenFile string `yaml:"bearer_token_file"`
	// TLS configures https connections.
	TLS TLSConfig `yaml:"tls"`
	// Timeout bounds one request, from dialing to reading the response.
	// Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxIdleConns is how many idle keep-alive connections are kept.
	// Default 2: requests are sent one at a time, in order.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// ProxyFromEnvironment uses HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
	// Default false: connect directly.
	ProxyFromEnvironment bool `yaml:"proxy_from_environment"`
	// FollowRedirects follows 307 and 308 redirects to the same scheme and
	// host (at most 10). Default false: every 3xx answer is a permanent
	// failure. Other redirects are never followed, because they turn the
	// request into a GET without the events.
	FollowRedirects bool `yaml:"follow_redirects"`
	// AllowInsecureAuth allows basic or bearer authentication over a plain
	// http URL to a host that is not loopback. Default false: such a
	// configuration is refused, since the credentials would be sent in
	// clear (internal/httpclient.CheckCredentialTransport).
	AllowInsecureAuth bool `yaml:"allow_insecure_auth"`
}

// BasicAuth is the user name and password for HTTP Basic authentication.
type BasicAuth struct {
	// Username is required and must not contain a colon.
	Username string `yaml:"username"`
	// Password is the password; or use PasswordFile.
	Password pipeline.Secret `yaml:"password"`
	// PasswordFile is a file holding the password, read by Provision (one
	// trailing newline is dropped).
	PasswordFile string `yaml:"password_file"`
}

// TLSConfig configures https connections (see tlsconfig.Config):
// certificates are verified against the system roots (or ca_file) unless
// insecure_skip_verify is set, which the sink logs as a warning at Start.
// The files are read by Provision.
type TLSConfig = tlsconfig.Config

// defaultConfig returns the defaults; url is required.
func defaultConfig() *Config {
	return &Config{
		Method:       "POST",
		Mode:         ModeStructured,
		Ordering:     OrderingStrict,
		MaxEvents:    100,
		MaxBytes:     1 << 20,
		Timeout:      10 * time.Second,
		MaxIdleConns: 2,
	}
}

// Validate implements pipeline.Config. It checks syntax only; files are
// read by the sink's Provision.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	u, err := validateURL(c.URL)
	if err != nil {
		add("url", "%w", err)
	}
	switch c.Method {
	case "POST", "PUT", "PATCH":
	default:
		add("method", "must be POST, PUT or PATCH, got %q", c.Method)
	}
	switch c.Mode {
	case ModeStructured, ModeBatch:
	default:
		add("mode", "must be %q or %q, got %q", ModeStructured, ModeBatch, c.Mode)
	}
	if err := c.Ordering.Validate(); err != nil {
		add("ordering", "%w", err)
	}
	if c.MaxEvents < 1 {
		add("max_events", "must be at least 1, got %d", c.MaxEvents)
	}
	if c.MaxBytes < 1 {
		add("max_bytes", "must be positive, got %s", c.MaxBytes)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be positive, got %s", c.Timeout)
	}
	if c.MaxIdleConns < 1 {
		add("max_idle_conns", "must be at least 1, got %d", c.MaxIdleConns)
	}
	errs = append(errs, c.validateAuth()...)
	if c.hasAuth() {
		if err := httpclient.CheckCredentialTransport(u, c.AllowInsecureAuth); err != nil {
			field := "bearer_token"
			if c.Basic != nil {
				field = "basic"
			}
			add(field, "%w", err)
		}
	}
	errs = append(errs, validateHeaders(c.Headers, c.hasAuth())...)
	errs = append(errs, c.validateTLS(u)...)
	return errors.Join(errs...)
}

func (c *Config) hasAuth() bool {
	return c.Basic != nil || c.BearerToken != "" || c.BearerTokenFile != ""
}

func (c *Config) validateAuth() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	bearer := c.BearerToken != "" || c.BearerTokenFile != ""
	if c.BearerToken != "" && c.BearerTokenFile != "" {
		add("bearer_token_file", "conflicts with bearer_token: set one")
	}
	if c.BearerToken != "" && !validToken(c.BearerToken.Reveal()) {
		add("bearer_token", "must be printable ASCII without spaces")
	}
	if c.Basic == nil {
		return errs
	}
	if bearer {
		add("basic", "conflicts with bearer_token: choose one kind of authentication")
	}
	b := c.Basic
	switch {
	case b.Username == "":
		add("basic.username", "is required")
	case strings.ContainsRune(b.Username, ':'):
		add("basic.username", "must not contain a colon")
	case strings.ContainsFunc(b.Username, isControl):
		add("basic.username", "must not contain control characters")
	}
	switch {
	case b.Password != "" && b.PasswordFile != "":
		add("basic.password_file", "conflicts with basic.password: set one")
	case b.Password == "" && b.PasswordFile == "":
		add("basic.password", "is required (or basic.password_file)")
	case strings.ContainsFunc(b.Password.Reveal(), isControl):
		add("basic.password", "must not contain control characters")
	}
	return errs
}

func (c *Config) validateTLS(u *url.URL) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	errs = append(errs, c.TLS.Validate()...)
	if u != nil && u.Scheme == "http" && !c.TLS.IsZero() {
		add("tls", "has no effect on an http URL; use https")
	}
	return errs
}

// validateURL checks an absolute http or https URL with a host and without
// credentials or fragment.
func validateURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, which may hold a credential.
		return nil, errors.New("is not a valid URL: " + httpclient.UnwrapURLError(err).Error())
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must be an http or https URL, e.g. https://collector.example/events")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("must name a host")
	case u.User != nil:
		return nil, errors.New("must not contain credentials; use basic or bearer_token")
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return nil, errors.New("must not contain a fragment")
	}
	return u, nil
}

// validToken reports whether s is non-empty printable ASCII without
// spaces, as a bearer token must be to fit a header.
func validToken(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' })
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }
