package vessink

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/glob"
	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/partial"
)

// Config is the VES sink's configuration.
type Config struct {
	// URL is the collector: either its server root
	// (https://collector:8443 or with a routing path), to which
	// /eventListener/v{version} is appended, or the single-event endpoint
	// itself (https://collector:8443/eventListener/v7). Batches go to the
	// same path plus /eventBatch. Required; http or https, without
	// credentials, query or fragment.
	URL string `yaml:"url"`
	// Version is the VES major version: 7 (default; Common Event Format
	// 30.2.1) or 5 (28.4.1, whose versions are numbers and whose maps are
	// name/value arrays).
	Version int `yaml:"version"`
	// ListenerVersion is the vesEventListenerVersion of v7 events: 7.0,
	// 7.0.1, 7.1, 7.1.1, 7.2 or 7.2.1 (default). Ignored for v5, which has
	// no such field.
	ListenerVersion string `yaml:"listener_version"`
	// ReportingEntityName names this Sluice in every header. Default: the
	// host name.
	ReportingEntityName string `yaml:"reporting_entity_name"`
	// ReportingEntityID is the optional reportingEntityId (a UUID in ONAP
	// deployments).
	ReportingEntityID string `yaml:"reporting_entity_id"`
	// Publisher is the middle part of generated event names
	// ({Domain}_{Publisher}_{Description}). Default "Sluice". Letters and
	// digits only.
	Publisher string `yaml:"publisher"`
	// TimeZone gives the v7 timeZoneOffset ("UTC+hh:mm") at each event's
	// time: "Local" (default, the machine's zone), "UTC", a fixed offset
	// such as "UTC+05:30", or an IANA name such as "Europe/Paris".
	TimeZone string `yaml:"time_zone"`
	// HeartbeatInterval is the heartbeat interval reported to the
	// collector, and the least spacing of forwarded heartbeats: of the
	// heartbeats that fall in one interval (aligned to the epoch), the
	// first is sent and the others are acknowledged without a request.
	// A heartbeatIntervalChange command from the collector replaces it
	// until the next restart. 0 disables thinning and reports the
	// heartbeat source's own interval. Default 60s, VES's default.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// FaultEventID chooses the eventId of fault events: "event" (default)
	// uses each delivery's idempotency key, so every raise and clear has
	// its own id (as Holmes-style consumers require); "alarm" gives the
	// raise, re-raises and the clear of one alarm the raise's id (as the
	// VES 7.2 "EventId Use Cases" describe).
	FaultEventID string `yaml:"fault_event_id"`
	// StateFile is deprecated: the alarm table is now the sink's state in
	// the journal. An existing file is migrated into it once: read at the
	// first start, renamed to FILE.migrated at the next one (see the
	// package documentation), never written.
	StateFile string `yaml:"state_file"`
	// DefaultDomain receives events no rule maps: "other" (default) or
	// "notification" (v7 only).
	DefaultDomain string `yaml:"default_domain"`
	// Rules map events to domains and fields ahead of the built-in
	// mapping; the first rule that matches an event applies.
	Rules []Rule `yaml:"rules"`
	// MaxBatchEvents bounds the events of one eventBatch request. Default
	// 100; 1 sends every event to the single-event endpoint.
	MaxBatchEvents int `yaml:"max_batch_events"`
	// MaxBatchBytes bounds the body of one request. Default 1MB, the size
	// VES strongly recommends staying under (the hard limit is 2MB).
	MaxBatchBytes pipeline.ByteSize `yaml:"max_batch_bytes"`
	// Ordering is "strict" (default: a transient failure stops the batch
	// there, so events, a fault's raise before its clear, reach the
	// collector in journal order) or "relaxed" (the rest of the batch is
	// still sent and only the failed requests are retried, later).
	Ordering partial.Ordering `yaml:"ordering"`
	// Username enables HTTP Basic authentication (https only).
	Username string `yaml:"username"`
	// Password is the Basic password; use ${VAR} or ${file:/path} in the
	// config file, or PasswordFile.
	Password pipeline.Secret `yaml:"password"`
	// PasswordFile is a file holding the password, read at Start (one
	// trailing newline is dropped).
	PasswordFile string `yaml:"password_file"`
	// TLS configures https: a custom CA, a client certificate for mutual
	// TLS, the verified server name. Verification is on by default.
	TLS TLSConfig `yaml:"tls"`
	// Timeout bounds one request. Default 5s (ves_timeout_seconds).
	Timeout time.Duration `yaml:"timeout"`
}

// TLSConfig configures https connections (see tlsconfig.Config):
// certificates are verified against the system roots (or ca_file) unless
// insecure_skip_verify is set, which the sink logs as a warning at Start.
// The files are read by Provision.
type TLSConfig = tlsconfig.Config

// Rule maps the events it matches to a VES domain and, optionally, fixes
// fields the built-in mapping would derive. An event matches when its
// route is in Routes (or Routes is empty) and its type matches one of
// Types (or Types is empty).
type Rule struct {
	// Routes are route names (pipeline.Delivery.Route), checked at load:
	// an unknown one is an error.
	Routes []string `yaml:"routes" config:"route"`
	// Types are event type globs (internal/glob: * any run, crossing '.'
	// and '/', ? one character), e.g.
	// "sluice.probe.*".
	Types []string `yaml:"types"`
	// Domain is fault, heartbeat, stateChange, notification (v7 only) or
	// other. Required.
	Domain string `yaml:"domain"`
	// EventName replaces the generated eventName.
	EventName string `yaml:"event_name"`
	// EventType sets the header's optional eventType (e.g. guestOS).
	EventType string `yaml:"event_type"`
	// Priority replaces the derived priority: High, Medium, Normal or Low.
	Priority string `yaml:"priority"`
	// EventSourceType, AlarmCondition, SpecificProblem and VFStatus are
	// fault fields; values in the event's data take precedence over them,
	// which take precedence over the built-in defaults.
	EventSourceType string `yaml:"event_source_type"`
	AlarmCondition  string `yaml:"alarm_condition"`
	SpecificProblem string `yaml:"specific_problem"`
	VFStatus        string `yaml:"vf_status"`
	// StateInterface is the stateChange (and notification) stateInterface.
	StateInterface string `yaml:"state_interface"`
	// States maps further state names found in the data (lower-cased) to
	// VES states: inService, maintenance or outOfService.
	States map[string]string `yaml:"states"`
}

// Domain names, as VES spells them.
const (
	DomainFault        = "fault"
	DomainHeartbeat    = "heartbeat"
	DomainStateChange  = "stateChange"
	DomainNotification = "notification"
	DomainOther        = "other"
)

// Fault eventId policies.
const (
	FaultEventIDEvent = "event"
	FaultEventIDAlarm = "alarm"
)

var (
	domains          = []string{DomainFault, DomainHeartbeat, DomainStateChange, DomainNotification, DomainOther}
	priorities       = []string{"High", "Medium", "Normal", "Low"}
	vfStatuses       = []string{"Active", "Idle", "Preparing to terminate", "Ready to terminate", "Requesting termination"}
	vesStates        = []string{stateInService, stateMaintenance, stateOutOfService}
	listenerVersions = []string{"7.0", "7.0.1", "7.1", "7.1.1", "7.2", "7.2.1"}
)

// defaultConfig returns the defaults; url is required.
func defaultConfig() *Config {
	return &Config{
		Version:           7,
		ListenerVersion:   "7.2.1",
		Publisher:         "Sluice",
		TimeZone:          "Local",
		HeartbeatInterval: 60 * time.Second,
		FaultEventID:      FaultEventIDEvent,
		DefaultDomain:     DomainOther,
		MaxBatchEvents:    100,
		MaxBatchBytes:     1000 * 1000,
		Ordering:          partial.OrderingStrict,
		Timeout:           5 * time.Second,
	}
}

// Validate implements pipeline.Config. It checks syntax only; files are
// read at Start, and IANA zone names are resolved when the sink is built.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if c.Version != 5 && c.Version != 7 {
		add("version", "must be 7 or 5, got %d", c.Version)
	}
	u, err := validateURL(c.URL, c.Version)
	if err != nil {
		add("url", "%w", err)
	}
	if !slices.Contains(listenerVersions, c.ListenerVersion) {
		add("listener_version", "must be one of %s, got %q", strings.Join(listenerVersions, ", "), c.ListenerVersion)
	}
	if c.Publisher == "" || strings.ContainsFunc(c.Publisher, func(r rune) bool { return !isAlnum(r) }) {
		add("publisher", "must be letters and digits only (it is part of eventName), got %q", c.Publisher)
	}
	if strings.ContainsFunc(c.ReportingEntityName, isControl) {
		add("reporting_entity_name", "must not contain control characters")
	}
	if _, err := fixedZone(c.TimeZone); err != nil && !ianaName(c.TimeZone) {
		add("time_zone", "%w", err)
	}
	if c.HeartbeatInterval != 0 && (c.HeartbeatInterval < time.Second || c.HeartbeatInterval > maxHeartbeatInterval) {
		add("heartbeat_interval", "must be 0 (the source's interval) or between 1s and 24h, got %s", c.HeartbeatInterval)
	}
	if c.FaultEventID != FaultEventIDEvent && c.FaultEventID != FaultEventIDAlarm {
		add("fault_event_id", "must be %q or %q, got %q", FaultEventIDEvent, FaultEventIDAlarm, c.FaultEventID)
	}
	if strings.ContainsRune(c.StateFile, 0) || strings.HasSuffix(c.StateFile, "/") {
		add("state_file", "must name a file, got %q", c.StateFile)
	}
	switch c.DefaultDomain {
	case DomainOther:
	case DomainNotification:
		if c.Version == 5 {
			add("default_domain", "notification does not exist in VES 5; use other")
		}
	default:
		add("default_domain", "must be other or notification, got %q", c.DefaultDomain)
	}
	for i, r := range c.Rules {
		errs = append(errs, pipeline.PrefixFieldErrors(fmt.Sprintf("rules[%d]", i), r.validate(c.Version)))
	}
	if c.MaxBatchEvents < 1 {
		add("max_batch_events", "must be at least 1, got %d", c.MaxBatchEvents)
	}
	if err := c.Ordering.Validate(); err != nil {
		add("ordering", "%w", err)
	}
	if c.MaxBatchBytes < minBatchBytes || c.MaxBatchBytes > maxBatchBytes {
		add("max_batch_bytes", "must be between 4KiB and 2MB (VES's limit), got %s", c.MaxBatchBytes)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be positive, got %s", c.Timeout)
	}
	errs = append(errs, c.validateAuth(u)...)
	return errors.Join(errs...)
}

const (
	maxHeartbeatInterval = 24 * time.Hour
	minBatchBytes        = 4 << 10
	maxBatchBytes        = 2 * 1000 * 1000
)

func (c *Config) validateAuth(u *url.URL) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	hasPass := c.Password != "" || c.PasswordFile != ""
	switch {
	case c.Username == "" && hasPass:
		add("username", "is required with a password")
	case strings.ContainsRune(c.Username, ':'):
		add("username", "must not contain a colon")
	case strings.ContainsFunc(c.Username, isControl):
		add("username", "must not contain control characters")
	}
	switch {
	case c.Password != "" && c.PasswordFile != "":
		add("password_file", "conflicts with password: set one")
	case c.Username != "" && !hasPass:
		add("password", "is required with a username (or password_file)")
	case strings.ContainsFunc(c.Password.Reveal(), isControl):
		add("password", "must not contain control characters")
	}
	if u != nil && u.Scheme == "http" {
		if c.Username != "" {
			add("username", "basic authentication over http sends the password in clear; use an https url")
		}
		if !c.TLS.IsZero() {
			add("tls", "has no effect on an http url; use https")
		}
	}
	return append(errs, c.TLS.Validate()...)
}

func (r *Rule) validate(version int) error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	switch {
	case r.Domain == "":
		add("domain", "is required: one of %s", strings.Join(domains, ", "))
	case !slices.Contains(domains, r.Domain):
		add("domain", "must be one of %s, got %q", strings.Join(domains, ", "), r.Domain)
	case r.Domain == DomainNotification && version == 5:
		add("domain", "notification does not exist in VES 5")
	}
	for i, p := range r.Types {
		if p == "" {
			add(fmt.Sprintf("types[%d]", i), "must not be empty")
		} else if err := glob.Validate(p); err != nil {
			add(fmt.Sprintf("types[%d]", i), "invalid pattern %q: %w", p, err)
		}
	}
	for i, name := range r.Routes {
		if name == "" {
			add(fmt.Sprintf("routes[%d]", i), "must not be empty")
		}
	}
	if r.Priority != "" && !slices.Contains(priorities, r.Priority) {
		add("priority", "must be one of %s, got %q", strings.Join(priorities, ", "), r.Priority)
	}
	if r.VFStatus != "" && !slices.Contains(vfStatuses, r.VFStatus) {
		add("vf_status", "must be one of %q, got %q", vfStatuses, r.VFStatus)
	}
	if strings.ContainsFunc(r.AlarmCondition, isSpace) {
		add("alarm_condition", "must not contain spaces, got %q", r.AlarmCondition)
	}
	if strings.ContainsFunc(r.EventName, isSpace) {
		add("event_name", "must not contain spaces, got %q", r.EventName)
	}
	for name, st := range r.States {
		if !slices.Contains(vesStates, st) {
			add("states."+name, "must be one of %s, got %q", strings.Join(vesStates, ", "), st)
		}
	}
	return errors.Join(errs...)
}

// validateURL checks an absolute http or https URL with a host and without
// credentials, query or fragment, whose path, if it names an
// eventListener version, names version.
func validateURL(raw string, version int) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("is required, e.g. https://collector:8443/eventListener/v7")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, which may hold a credential.
		return nil, errors.New("is not a valid URL: " + httpclient.UnwrapURLError(err).Error())
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must be an http or https URL, e.g. https://collector:8443/eventListener/v7")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("must name a host")
	case u.User != nil:
		return nil, errors.New("must not contain credentials; use username and password")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, errors.New("must not contain a query (VES forbids credentials in the query string)")
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return nil, errors.New("must not contain a fragment")
	}
	if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/eventBatch") {
		return nil, errors.New("must be the single-event endpoint (.../eventListener/v7) or the server root; batches go to .../eventBatch by themselves")
	}
	if v, ok := urlVersion(u.Path); ok && v != version && (version == 5 || version == 7) {
		return nil, fmt.Errorf("names eventListener/v%d but version is %d; set version: %d or fix the url", v, version, v)
	} else if ok && v != 5 && v != 7 {
		return nil, fmt.Errorf("names eventListener/v%d; this sink speaks v7 and v5", v)
	}
	return u, nil
}

// urlVersion returns N when p ends with /eventListener/vN (a trailing
// slash allowed).
func urlVersion(p string) (int, bool) {
	p = strings.TrimSuffix(p, "/")
	i := strings.LastIndex(p, "/eventListener/v")
	if i < 0 {
		return 0, false
	}
	n := 0
	digits := p[i+len("/eventListener/v"):]
	if digits == "" || len(digits) > 3 {
		return 0, false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

func isAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}
