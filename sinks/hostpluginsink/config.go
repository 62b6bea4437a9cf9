package hostpluginsink

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/glob"
	"github.com/sluice-dev/sluice/pipeline"
)

// DefaultEndpoint is the WireServer address WALinuxAgent reports to.
const DefaultEndpoint = "168.63.129.16"

// DefaultSource is the body's Source when none is configured.
const DefaultSource = "Sluice"

// Config is the host-plugin HealthService sink's configuration.
type Config struct {
	// Endpoint is the WireServer, a host or host:port (IPv6 in brackets).
	// Requests go to http://ENDPOINT/HealthService, on port 80 when the
	// endpoint names none. Default 168.63.129.16.
	Endpoint string `yaml:"endpoint"`
	// Source is the body's "Source", which tells reporters apart on the
	// host (WALinuxAgent sends "WALinuxAgent"). Default "Sluice".
	Source string `yaml:"source"`
	// UserAgent is the User-Agent header. Default "Sluice/VERSION" (or
	// "Sluice" when the build has no version); WALinuxAgent sends
	// "WALinuxAgent/2.7.3.0".
	UserAgent string `yaml:"user_agent"`
	// Timeout bounds one request, from dialing to reading the answer.
	// Default 10s, WALinuxAgent's socket timeout.
	Timeout time.Duration `yaml:"timeout"`
	// RetryStatuses are 4xx statuses to retry rather than dead-letter, on
	// top of 408 and 429 (WALinuxAgent also retries 403, which the
	// WireServer uses for throttling). Default none.
	RetryStatuses []int `yaml:"retry_statuses"`
	// Observations map events to observations. They are tried in order,
	// before the built-in mapping (see the package documentation); the
	// first whose types, routes and when all match an event makes its
	// observation.
	Observations []ObservationConfig `yaml:"observations"`
	// BuiltinObservations appends the built-in mapping to Observations.
	// Default true.
	BuiltinObservations bool `yaml:"builtin_observations"`
}

// ObservationConfig maps the events it selects to one observation.
//
// Selectors (healthy.from, description, value, name_from and the keys of
// when) name a part of the event:
//
//	data              the whole payload (JSON as compact text)
//	data.a.b.0        a member of the JSON payload; numbers index arrays
//	id source type subject origin severity time sequence route
//	ext.NAME          an extension attribute
//	literal:TEXT      the text itself
//
// Strings select as their text, other JSON values as JSON, a missing
// member or null as "" (health needs a value: a missing one is an error).
type ObservationConfig struct {
	// Name is the ObservationName, at most 64 characters (the agent's
	// limit). Exactly one of Name and NameFrom is required.
	Name string `yaml:"name"`
	// NameFrom selects the name from the event instead (cut to 64
	// characters), one observation per distinct value.
	NameFrom string `yaml:"name_from"`
	// Types are globs over the event type ("sluice.probe.*"; internal/glob:
	// * any run, crossing '.' and '/', ? one character). Required.
	Types []string `yaml:"types"`
	// Routes, when set, limit the rule to deliveries of these routes, so
	// that one route can map the same events differently. Names are
	// checked at load: an unknown route is an error.
	Routes []string `yaml:"routes" config:"route"`
	// When maps selectors to the exact text they must select, e.g.
	// {data.kind: hostplugin}.
	When map[string]string `yaml:"when"`
	// Healthy says whether the event reports success. Required.
	Healthy HealthyConfig `yaml:"healthy"`
	// Description selects the Description (cut to 128 characters).
	// Default "".
	Description string `yaml:"description"`
	// Value selects the Value (cut to 128 characters). Default "".
	Value string `yaml:"value"`
	// Period is the least time between two reports of the observation,
	// measured in event time; events in between update the error state
	// but are not sent. 0 reports every event. Default: WALinuxAgent's
	// for the name (0 for GuestAgentPluginVersions, else 1m).
	Period *time.Duration `yaml:"period"`
	// ErrorState is how long the observation must fail before it is
	// reported unhealthy; until then failures are reported healthy, and
	// any success resets it. 0 reports failures at once. Default:
	// WALinuxAgent's for the name (3m for InstanceMetadataHeartbeat, 0
	// for GuestAgentPluginVersions, else 5m).
	ErrorState *time.Duration `yaml:"error_state"`
	// FailingSince optionally selects when the current run of failures
	// began (an RFC 3339 time), as the source counted it. The error state
	// then starts there rather than at the first failure the sink saw, so
	// it survives a restart of Sluice and events the sink never got.
	// Default "" (the sink counts).
	FailingSince string `yaml:"failing_since"`
}

// HealthyConfig decides an event's health.
type HealthyConfig struct {
	// From selects the value. Required.
	From string `yaml:"from"`
	// Equals lists the texts that mean healthy; anything else is a
	// failure. Empty: From must select a boolean (JSON true or false, or
	// the text "true" or "false").
	Equals []string `yaml:"equals"`
}

// Observation names WALinuxAgent reports.
const (
	NameHeartbeat     = "GuestAgentPluginHeartbeat"
	NameStatus        = "GuestAgentPluginStatus"
	NameVersions      = "GuestAgentPluginVersions"
	NameArtifact      = "GuestAgentPluginArtifact"
	NameIMDSHeartbeat = "InstanceMetadataHeartbeat"
)

// defaultTiming returns WALinuxAgent's report period and error-state
// duration for an observation name (ga/monitor.py, hostplugin.py).
func defaultTiming(name string) (period, errorState time.Duration) {
	switch name {
	case NameVersions:
		return 0, 0 // reported on every call, health decided at once
	case NameIMDSHeartbeat:
		return time.Minute, 3 * time.Minute
	default:
		return time.Minute, 5 * time.Minute
	}
}

// defaultUserAgent is "Sluice", with the module version when the binary
// was built from a tagged module or a VCS checkout.
var defaultUserAgent = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/sluice-dev/sluice" &&
		bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return "Sluice/" + bi.Main.Version
	}
	return "Sluice"
}()

// defaultConfig returns the defaults.
func defaultConfig() *Config {
	return &Config{
		Endpoint:            DefaultEndpoint,
		Source:              DefaultSource,
		UserAgent:           defaultUserAgent,
		Timeout:             10 * time.Second,
		BuiltinObservations: true,
	}
}

// Validate implements pipeline.Config.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := splitEndpoint(c.Endpoint); err != nil {
		errs = append(errs, pipeline.FieldErrorf("endpoint", "%w", err))
	}
	if c.Source == "" {
		errs = append(errs, pipeline.FieldErrorf("source", "is required"))
	}
	if err := checkHeaderValue(c.UserAgent); err != nil {
		errs = append(errs, pipeline.FieldErrorf("user_agent", "%w", err))
	}
	if c.Timeout <= 0 {
		errs = append(errs, pipeline.FieldErrorf("timeout", "must be positive, got %s", c.Timeout))
	}
	for i, st := range c.RetryStatuses {
		if st < 400 || st > 499 {
			errs = append(errs, pipeline.FieldErrorf(fmt.Sprintf("retry_statuses[%d]", i), "must be a 4xx status, got %d", st))
		}
	}
	for i := range c.Observations {
		if err := c.Observations[i].Validate(); err != nil {
			errs = append(errs, pipeline.PrefixFieldErrors(fmt.Sprintf("observations[%d]", i), err))
		}
	}
	if len(c.Observations) == 0 && !c.BuiltinObservations {
		errs = append(errs, pipeline.FieldErrorf("observations", "is required when builtin_observations is false"))
	}
	return errors.Join(errs...)
}

// Validate checks one mapping rule.
func (o *ObservationConfig) Validate() error {
	var errs []error
	switch {
	case o.Name == "" && o.NameFrom == "":
		errs = append(errs, pipeline.FieldErrorf("name", "is required (or name_from)"))
	case o.Name != "" && o.NameFrom != "":
		errs = append(errs, pipeline.FieldErrorf("name_from", "cannot be used with name"))
	case o.Name != "":
		if n := utf8.RuneCountInString(o.Name); n > maxNameChars || !utf8.ValidString(o.Name) {
			errs = append(errs, pipeline.FieldErrorf("name", "must be valid UTF-8 of at most %d characters, got %d", maxNameChars, n))
		}
	default:
		errs = appendSelectorError(errs, "name_from", o.NameFrom)
	}
	if len(o.Types) == 0 {
		errs = append(errs, pipeline.FieldErrorf("types", "is required: the event types the rule maps"))
	}
	for i, t := range o.Types {
		if err := glob.Validate(t); err != nil {
			errs = append(errs, pipeline.FieldErrorf(fmt.Sprintf("types[%d]", i), "invalid glob %q: %w", t, err))
		}
	}
	for i, r := range o.Routes {
		if r == "" {
			errs = append(errs, pipeline.FieldErrorf(fmt.Sprintf("routes[%d]", i), "must not be empty"))
		}
	}
	for k := range o.When {
		if _, err := parseSelector(k); err != nil {
			errs = append(errs, pipeline.FieldErrorf("when."+k, "%w", err))
		}
	}
	if o.Healthy.From == "" {
		errs = append(errs, pipeline.FieldErrorf("healthy.from", "is required: the event part that says whether the check succeeded"))
	} else {
		errs = appendSelectorError(errs, "healthy.from", o.Healthy.From)
	}
	errs = appendSelectorError(errs, "description", o.Description)
	errs = appendSelectorError(errs, "value", o.Value)
	errs = appendSelectorError(errs, "failing_since", o.FailingSince)
	if o.Period != nil && *o.Period < 0 {
		errs = append(errs, pipeline.FieldErrorf("period", "must not be negative, got %s", *o.Period))
	}
	if o.ErrorState != nil && *o.ErrorState < 0 {
		errs = append(errs, pipeline.FieldErrorf("error_state", "must not be negative, got %s", *o.ErrorState))
	}
	return errors.Join(errs...)
}

func appendSelectorError(errs []error, field, sel string) []error {
	if sel == "" {
		return errs
	}
	if _, err := parseSelector(sel); err != nil {
		return append(errs, pipeline.FieldErrorf(field, "%w", err))
	}
	return errs
}

// splitEndpoint returns the host and port of an endpoint, port 80 when
// it names none.
func splitEndpoint(ep string) (host string, port int, err error) {
	switch {
	case ep == "":
		return "", 0, errors.New("is required: a host or host:port such as 168.63.129.16")
	case strings.Contains(ep, "://"):
		return "", 0, fmt.Errorf("%q: want a host or host:port, not a URL (the path is always /HealthService)", ep)
	case strings.ContainsAny(ep, "/?#@ \t\r\n"):
		return "", 0, fmt.Errorf("%q: want a host or host:port", ep)
	}
	if strings.HasPrefix(ep, "[") || strings.Count(ep, ":") == 1 {
		if !strings.HasPrefix(ep, "[") || strings.Contains(ep, "]:") {
			h, p, serr := net.SplitHostPort(ep)
			if serr != nil {
				return "", 0, fmt.Errorf("%q: %w", ep, serr)
			}
			n, perr := strconv.Atoi(p)
			if perr != nil || n < 1 || n > 65535 {
				return "", 0, fmt.Errorf("%q: port must be 1-65535", ep)
			}
			host, port = h, n
		} else {
			if !strings.HasSuffix(ep, "]") {
				return "", 0, fmt.Errorf("%q: want [IPv6] or [IPv6]:port", ep)
			}
			host, port = ep[1:len(ep)-1], 80
		}
	} else {
		if strings.Contains(ep, ":") {
			return "", 0, fmt.Errorf("%q: put an IPv6 address in brackets, e.g. [fe80::1]:80", ep)
		}
		host, port = ep, 80
	}
	if host == "" {
		return "", 0, fmt.Errorf("%q: the host is empty", ep)
	}
	if (strings.HasPrefix(ep, "[") || strings.Contains(host, ":")) && (net.ParseIP(host) == nil || !strings.Contains(host, ":")) {
		return "", 0, fmt.Errorf("%q: %q is not an IPv6 address", ep, host)
	}
	return host, port, nil
}

// checkHeaderValue refuses values that cannot be sent in a header.
func checkHeaderValue(v string) error {
	for i := range len(v) {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return errors.New("must not contain control characters")
		}
	}
	return nil
}
