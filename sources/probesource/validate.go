package probesource

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

// kinds lists the probe kinds, for messages.
const kinds = "http, https, tcp, exec or hostplugin"

// field describes who may set one kind-specific field.
type field struct {
	name  string
	kinds []string
	isSet func(c *Config) bool
}

// kindFields are the fields that belong to some kinds only. Setting one
// on a probe of another kind is an error, not a silent no-op.
var kindFields = []field{
	{"url", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.URL != "" }},
	{"method", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.Method != "" }},
	{"headers", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return len(c.Headers) > 0 }},
	{"body", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.Body != "" }},
	{"expect_status", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return len(c.ExpectStatus) > 0 }},
	{"expect_body", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.ExpectBody != "" }},
	{"expect_body_regex", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.ExpectBodyRegex != "" }},
	{"follow_redirects", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.FollowRedirects != "" }},
	{"max_redirects", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.MaxRedirects != 0 }},
	{"allow_insecure_auth", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.AllowInsecureAuth }},
	{"tls", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return !c.TLS.IsZero() }},
	{"keep_alive", []string{KindHTTP, KindHTTPS}, func(c *Config) bool { return c.KeepAlive != nil }},
	{"max_response_bytes", []string{KindHTTP, KindHTTPS, KindTCP, KindHostPlugin}, func(c *Config) bool { return c.MaxResponseBytes != 0 }},
	{"address", []string{KindTCP}, func(c *Config) bool { return c.Address != "" }},
	{"send", []string{KindTCP}, func(c *Config) bool { return c.Send != "" }},
	{"expect", []string{KindTCP}, func(c *Config) bool { return c.Expect != "" }},
	{"command", []string{KindExec}, func(c *Config) bool { return !c.Command.IsZero() }},
	{"shell", []string{KindExec}, func(c *Config) bool { return c.Shell }},
	{"env", []string{KindExec}, func(c *Config) bool { return len(c.Env) > 0 }},
	{"dir", []string{KindExec}, func(c *Config) bool { return c.Dir != "" }},
	{"user", []string{KindExec}, func(c *Config) bool { return c.User != "" }},
	{"group", []string{KindExec}, func(c *Config) bool { return c.Group != "" }},
	{"max_output_bytes", []string{KindExec}, func(c *Config) bool { return c.MaxOutputBytes != 0 }},
	{"endpoint", []string{KindHostPlugin}, func(c *Config) bool { return c.Endpoint != "" }},
	{"container_id", []string{KindHostPlugin}, func(c *Config) bool { return c.ContainerID != "" }},
	{"versions_interval", []string{KindHostPlugin}, func(c *Config) bool { return c.VersionsInterval.IsSet() }},
}

// sharedKindFields may be set above a list of probes, as defaults.
var sharedKindFields = map[string]bool{"tls": true, "keep_alive": true}

// errs collects FieldErrors under a path prefix.
type errs struct {
	prefix string
	list   []error
}

func (e *errs) add(name, format string, args ...any) {
	f := name
	if e.prefix != "" {
		f = e.prefix + "." + name
	}
	e.list = append(e.list, pipeline.FieldErrorf(f, format, args...))
}

// Validate implements pipeline.Config. It checks syntax only: the TLS
// files are read by Provision, exec paths resolved when the source is
// built and run.
func (c *Config) Validate() error {
	e := &errs{}
	if len(c.Probes) == 0 {
		validateProbe(e, c, nil)
		return errors.Join(e.list...)
	}
	validateShared(e, c)
	if c.Name != "" {
		e.add("name", "names a single probe; with probes, name each probe in the list")
	}
	for _, f := range kindFields {
		if f.isSet(c) && !sharedKindFields[f.name] {
			e.add(f.name, "set it on each probe under probes (only kind, timing, thresholds, heartbeat, results, severity, tls and keep_alive are shared)")
		}
	}
	if c.Kind != "" && !validKind(c.Kind) {
		e.add("kind", "unknown kind %q: want %s", c.Kind, kinds)
	}
	seen := map[string]int{}
	for i := range c.Probes {
		p := (*Config)(&c.Probes[i])
		pe := &errs{prefix: "probes[" + strconv.Itoa(i) + "]"}
		switch j, dup := seen[p.Name]; {
		case p.Name == "":
			pe.add("name", "is required for each probe of a list")
		case dup:
			pe.add("name", "%q is already the name of probes[%d]", p.Name, j)
		default:
			seen[p.Name] = i
		}
		if len(p.Probes) > 0 {
			pe.add("probes", "probes do not nest")
		}
		validateProbe(pe, p, c)
		e.list = append(e.list, pe.list...)
	}
	return errors.Join(e.list...)
}

func validKind(k string) bool {
	switch k {
	case KindHTTP, KindHTTPS, KindTCP, KindExec, KindHostPlugin:
		return true
	}
	return false
}

// validateShared checks the fields a probe may inherit.
func validateShared(e *errs, c *Config) {
	checkInterval(e, "interval", c.Interval, minInterval)
	checkInterval(e, "timeout", c.Timeout, time.Millisecond)
	checkInterval(e, "initial_delay", c.InitialDelay, 0)
	checkInterval(e, "jitter", c.Jitter, 0)
	checkInterval(e, "heartbeat", c.Heartbeat, 0)
	if c.FailureThreshold < 0 {
		e.add("failure_threshold", "must be at least 1 (or 0 for the default), got %d", c.FailureThreshold)
	}
	if c.SuccessThreshold < 0 {
		e.add("success_threshold", "must be at least 1 (or 0 for the default), got %d", c.SuccessThreshold)
	}
	if c.Severity != nil {
		if _, err := pipeline.ParseSeverity(c.Severity.String()); err != nil {
			e.add("severity", "%v", err)
		}
	}
	validateTLS(e, c.TLS)
}

// checkInterval reports an invalid or too small interval; min 0 allows 0.
func checkInterval(e *errs, name string, v Interval, least time.Duration) {
	if !v.IsSet() {
		return
	}
	if err := v.Err(); err != nil {
		e.add(name, "%v", err)
		return
	}
	switch {
	case v.Duration() < 0:
		e.add(name, "must not be negative, got %s", v.Duration())
	case least > 0 && v.Duration() < least:
		e.add(name, "must be at least %s, got %s", least, v.Duration())
	}
}

// validateProbe checks one probe; parent holds the shared defaults of a
// list, or is nil.
func validateProbe(e *errs, c, parent *Config) {
	validateShared(e, c)
	kind := c.Kind
	if kind == "" && parent != nil {
		kind = parent.Kind
	}
	switch {
	case kind == "":
		e.add("kind", "is required: %s", kinds)
		return
	case !validKind(kind):
		if c.Kind != "" {
			e.add("kind", "unknown kind %q: want %s", kind, kinds)
		}
		return
	}
	for _, f := range kindFields {
		if f.isSet(c) && !contains(f.kinds, kind) {
			e.add(f.name, "is not used by kind %s (only by %s)", kind, strings.Join(f.kinds, ", "))
		}
	}
	if c.MaxResponseBytes < 0 || c.MaxResponseBytes > maxResponseBytesLimit {
		e.add("max_response_bytes", "must be between 0 (the default, 64KiB) and %s, got %s", pipeline.ByteSize(maxResponseBytesLimit), c.MaxResponseBytes)
	}
	switch kind {
	case KindHTTP, KindHTTPS:
		validateHTTP(e, c, kind)
	case KindTCP:
		validateTCP(e, c)
	case KindExec:
		validateExec(e, c)
	case KindHostPlugin:
		validateHostPlugin(e, c)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var methodPattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func validateHTTP(e *errs, c *Config, kind string) {
	if err := checkURL(c.URL, kind, c.AllowInsecureAuth); err != nil {
		e.add("url", "%w", err)
	}
	if c.Method != "" && !methodPattern.MatchString(c.Method) {
		e.add("method", "invalid HTTP method %q", c.Method)
	}
	for name, v := range c.Headers {
		if !methodPattern.MatchString(name) {
			e.add("headers", "invalid header name %q", name)
		}
		if strings.ContainsAny(v.Reveal(), "\r\n\x00") {
			e.add("headers", "the value of header %q contains a line break or NUL", name)
		}
	}
	for i, s := range c.ExpectStatus {
		if _, err := parseStatus(s); err != nil {
			e.add("expect_status["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
	if c.ExpectBodyRegex != "" {
		if _, err := regexp.Compile(c.ExpectBodyRegex); err != nil {
			e.add("expect_body_regex", "%v", err)
		}
	}
	switch c.FollowRedirects {
	case "", RedirectsNone, RedirectsSameHost, RedirectsAny:
	default:
		e.add("follow_redirects", "want none, same_host or any, got %q", c.FollowRedirects)
	}
	if c.MaxRedirects < 0 {
		e.add("max_redirects", "must not be negative, got %d", c.MaxRedirects)
	}
}

// checkURL requires an absolute http(s) URL with a host; kind https
// requires the https scheme. A password in a plain http URL to a host
// that is not loopback needs allowInsecureAuth.
func checkURL(raw, kind string, allowInsecureAuth bool) error {
	if raw == "" {
		return fmt.Errorf("is required for kind %s", kind)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", httpclient.UnwrapURLError(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http:// or https:// URL, got scheme %q", u.Scheme)
	case kind == KindHTTPS && u.Scheme != "https":
		return errors.New("kind https needs an https:// URL")
	case u.Hostname() == "":
		return errors.New("the URL has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("invalid port %q", p)
		}
	}
	if u.User != nil {
		return httpclient.CheckCredentialTransport(u, allowInsecureAuth)
	}
	return nil
}

func validateTLS(e *errs, t TLSConfig) {
	for _, err := range t.Validate() {
		if fe, ok := errors.AsType[*pipeline.FieldError](err); ok {
			e.add(fe.Field, "%w", fe.Err)
		}
	}
}

func validateTCP(e *errs, c *Config) {
	if c.Address == "" {
		e.add("address", "is required for kind tcp (host:port)")
		return
	}
	if err := checkHostPort(c.Address, false); err != nil {
		e.add("address", "%v", err)
	}
}

// checkHostPort checks host:port, or a bare host when portOptional.
func checkHostPort(s string, portOptional bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if !portOptional {
			return fmt.Errorf("want host:port, got %q", s)
		}
		host, port = s, ""
	}
	if host == "" || strings.ContainsAny(host, " /\t\r\n") {
		return fmt.Errorf("want a host name or IP address, got %q", host)
	}
	if port != "" || !portOptional {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("want a port from 1 to 65535, got %q", port)
		}
	}
	return nil
}

func validateExec(e *errs, c *Config) {
	argv := c.Command.resolve(c.Shell)
	switch {
	case c.Command.IsZero():
		e.add("command", "is required for kind exec (an argv list, or one string)")
	case c.Shell && strings.TrimSpace(c.Command.String()) == "":
		e.add("command", "must not be empty")
	case len(argv) == 0:
		e.add("command", "must not be empty")
	case argv[0] == "":
		e.add("command", "the program (the first element) must not be empty")
	}
	for k := range c.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			e.add("env", "invalid variable name %q", k)
		}
	}
	for name, v := range map[string]string{"user": c.User, "group": c.Group} {
		if strings.ContainsAny(v, " \t\r\n:\x00") {
			e.add(name, "want a name or a number, got %q", v)
		}
	}
	if c.MaxOutputBytes < 0 || c.MaxOutputBytes > maxOutputBytesLimit {
		e.add("max_output_bytes", "must be between 0 (the default, 4KiB) and %s, got %s", pipeline.ByteSize(maxOutputBytesLimit), c.MaxOutputBytes)
	}
}

func validateHostPlugin(e *errs, c *Config) {
	if c.Endpoint != "" {
		if err := checkHostPort(c.Endpoint, true); err != nil {
			e.add("endpoint", "%v", err)
		}
	}
	if strings.ContainsAny(c.ContainerID, "\r\n\x00") {
		e.add("container_id", "contains a line break or NUL")
	}
	checkInterval(e, "versions_interval", c.VersionsInterval, 0)
}
