package vmfaultsource

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

// Providers.
const (
	ProviderOpenStack = "openstack"
	ProviderAzure     = "azure"
	ProviderAWS       = "aws"
	ProviderGCP       = "gcp"
)

// Keystone endpoint interfaces.
const (
	InterfacePublic   = "public"
	InterfaceInternal = "internal"
	InterfaceAdmin    = "admin"
)

// Defaults and limits.
const (
	// DefaultMicroversion is the pinned compute API microversion: 2.69 is
	// the first that lists servers of a down cell (as UNKNOWN partial
	// records) instead of leaving them out.
	DefaultMicroversion   = "2.69"
	defaultOpenStackEvery = 30 * time.Second
	defaultAzureEvery     = time.Second
	defaultAWSEvery       = 5 * time.Second
	// defaultGCPPause separates two hanging GETs.
	defaultGCPPause         = 100 * time.Millisecond
	defaultTimeout          = 10 * time.Second
	defaultConcurrency      = 4
	defaultPageSize         = 1000
	defaultMaxResponseBytes = 16 << 20
	maxResponseBytesLimit   = 256 << 20
	minInterval             = 10 * time.Millisecond
	// defaultMetadataEndpoint is the instance metadata address of Azure
	// (VNET VMs) and AWS.
	defaultMetadataEndpoint = "http://169.254.169.254"
	defaultGCPEndpoint      = "http://metadata.google.internal"
)

// Config is the vmfault source's configuration (`type: vmfault`).
type Config struct {
	// Provider is openstack (faults of the servers in Watch, from Nova),
	// azure, aws or gcp (scheduled maintenance of this VM, from the
	// instance metadata service). Required.
	Provider string `yaml:"provider" config:"required"`

	// Auth is the Keystone v3 password authentication (openstack).
	Auth AuthConfig `yaml:"auth"`
	// Microversion is the compute API microversion sent with every Nova
	// request. Default 2.69 (see DefaultMicroversion).
	Microversion string `yaml:"microversion"`
	// Watch lists what to poll (openstack); at least one entry.
	Watch []WatchEntry `yaml:"watch"`
	// Concurrency bounds the Nova polls in flight at once, whatever the
	// number of watch entries. Default 4.
	Concurrency int `yaml:"concurrency"`
	// PageSize is the limit of each /servers/detail page. Default 1000
	// (Nova's max_limit).
	PageSize int `yaml:"page_size"`
	// StoppedIsFault makes SHUTOFF, PAUSED, SUSPENDED, SHELVED,
	// SHELVED_OFFLOADED and RESCUE faults, as the ONAP VES agent did.
	// Default false: these are states a user asks for.
	StoppedIsFault bool `yaml:"stopped_is_fault"`
	// TLS of the Keystone and Nova connections (ca_file, cert_file and
	// key_file for mutual TLS, server_name, insecure_skip_verify).
	TLS tlsconfig.Config `yaml:"tls"`

	// Endpoint overrides the metadata service's base URL (azure, aws,
	// gcp), for tests. Default http://169.254.169.254,
	// http://metadata.google.internal for gcp.
	Endpoint string `yaml:"endpoint"`
	// Approve, when set, approves (StartRequests) each scheduled event
	// of this VM once it has been known for After (azure).
	Approve *ApproveConfig `yaml:"approve"`
	// VMName is the name Azure lists in an event's Resources for this VM
	// (events that do not name it are ignored), and the vm of every
	// maintenance event. Default: the host name.
	VMName string `yaml:"vm_name"`
	// TokenTTL is the lifetime of the IMDSv2 session tokens the source
	// asks for (aws). Default 1h, at most 6h.
	TokenTTL time.Duration `yaml:"token_ttl"`

	// Interval between polls. Default 30s for openstack (each watch entry
	// may set its own), 1s for azure, 5s for aws; for gcp, whose
	// requests hang until a change, the pause between two (100ms).
	Interval time.Duration `yaml:"interval"`
	// Timeout of one HTTP request. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Retry is the backoff after a failed poll; a failed poll is retried
	// until it succeeds, never skipped. Default 500ms doubling to 30s.
	Retry pipeline.RetryConfig `yaml:"retry"`
	// MaxResponseBytes bounds every response body read. Default 16MiB.
	MaxResponseBytes pipeline.ByteSize `yaml:"max_response_bytes"`
}

// AuthConfig is Keystone v3 password authentication, scoped to a project.
type AuthConfig struct {
	// URL is the Keystone endpoint, with or without /v3.
	URL string `yaml:"url"`
	// Username names the user; its domain is required with it (a user
	// name is unique only within a domain), by name (UserDomain) or by id
	// (UserDomainID). UserID may be used instead.
	Username     string `yaml:"username"`
	UserID       string `yaml:"user_id"`
	UserDomain   string `yaml:"user_domain"`
	UserDomainID string `yaml:"user_domain_id"`
	// Password is never printed.
	Password pipeline.Secret `yaml:"password"`
	// Project names the project to scope the token to, with its domain
	// by name (ProjectDomain) or by id (ProjectDomainID); or ProjectID.
	// The domain also applies to the watch entries' tenants.
	Project         string `yaml:"project"`
	ProjectID       string `yaml:"project_id"`
	ProjectDomain   string `yaml:"project_domain"`
	ProjectDomainID string `yaml:"project_domain_id"`
	// Region of the compute endpoint. Default: the first in the catalog.
	Region string `yaml:"region"`
	// Interface of the compute endpoint: public (default), internal or
	// admin.
	Interface string `yaml:"interface"`
}

// WatchEntry is one "backlog" of the ONAP VES agent: one server, by name or
// id, or every server of the project.
type WatchEntry struct {
	// Tenant is the project this entry's servers are in, by name in
	// auth.project_domain. Default auth.project.
	Tenant string `yaml:"tenant"`
	// Server is a server's id (a UUID) or its exact name; every server of
	// that name is watched.
	Server string `yaml:"server"`
	// All watches every server of the project.
	All bool `yaml:"all"`
	// Interval overrides the source's interval for this entry.
	Interval time.Duration `yaml:"interval"`
}

// ApproveConfig is Azure's automatic approval.
type ApproveConfig struct {
	// After is how long a scheduled event waits before Sluice approves it.
	After time.Duration `yaml:"after"`
}

var _ pipeline.Config = (*Config)(nil)

func defaultConfig() *Config {
	return &Config{Retry: pipeline.DefaultRetryConfig()}
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// isServerID reports whether a watch entry's server names an id.
func isServerID(s string) bool { return uuidRE.MatchString(s) }

var microversionRE = regexp.MustCompile(`^2\.(0|[1-9][0-9]{0,2})$`)

// Validate implements pipeline.Config. It reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if c.Interval < 0 || c.Interval > 0 && c.Interval < minInterval {
		add("interval", "must be at least %s, got %s", minInterval, c.Interval)
	}
	if c.Timeout < 0 {
		add("timeout", "must not be negative, got %s", c.Timeout)
	}
	if c.MaxResponseBytes < 0 || c.MaxResponseBytes > maxResponseBytesLimit {
		add("max_response_bytes", "must be between 0 (default) and %d, got %d", maxResponseBytesLimit, c.MaxResponseBytes)
	}
	if err := c.Retry.Validate(); err != nil {
		errs = append(errs, pipeline.PrefixFieldErrors("retry", err))
	}
	switch c.Provider {
	case ProviderOpenStack:
		errs = append(errs, c.validateOpenStack()...)
	case ProviderAzure, ProviderAWS, ProviderGCP:
		errs = append(errs, c.validateMetadata()...)
	default:
		add("provider", "must be openstack, azure, aws or gcp, got %q", c.Provider)
	}
	return errors.Join(errs...)
}

func (c *Config) validateOpenStack() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	a := c.Auth
	if err := checkURL(a.URL); err != nil {
		add("auth.url", "%v", err)
	}
	switch {
	case a.Username == "" && a.UserID == "":
		add("auth.username", "required (or auth.user_id)")
	case a.Username != "" && a.UserID != "":
		add("auth.user_id", "set username or user_id, not both")
	case a.Username != "" && a.UserDomain == "" && a.UserDomainID == "":
		add("auth.user_domain", "required with auth.username, or auth.user_domain_id (a user name is unique only within a domain)")
	case a.UserDomain != "" && a.UserDomainID != "":
		add("auth.user_domain_id", "set user_domain or user_domain_id, not both")
	case a.UserID != "" && (a.UserDomain != "" || a.UserDomainID != ""):
		add("auth.user_id", "a user id needs no domain; remove auth.user_domain and auth.user_domain_id")
	}
	if a.Password.Reveal() == "" {
		add("auth.password", "required")
	}
	switch {
	case a.Project == "" && a.ProjectID == "":
		add("auth.project", "required (or auth.project_id)")
	case a.Project != "" && a.ProjectID != "":
		add("auth.project_id", "set project or project_id, not both")
	case a.Project != "" && a.ProjectDomain == "" && a.ProjectDomainID == "":
		add("auth.project_domain", "required with auth.project, or auth.project_domain_id")
	case a.ProjectDomain != "" && a.ProjectDomainID != "":
		add("auth.project_domain_id", "set project_domain or project_domain_id, not both")
	}
	switch a.Interface {
	case "", InterfacePublic, InterfaceInternal, InterfaceAdmin:
	default:
		add("auth.interface", "must be public, internal or admin, got %q", a.Interface)
	}
	if c.Microversion != "" && c.Microversion != "latest" && !microversionRE.MatchString(c.Microversion) {
		add("microversion", "must be 2.N (e.g. 2.69) or latest, got %q", c.Microversion)
	}
	if c.Concurrency < 0 {
		add("concurrency", "must not be negative, got %d", c.Concurrency)
	}
	if c.PageSize < 0 {
		add("page_size", "must not be negative, got %d", c.PageSize)
	}
	errs = append(errs, c.TLS.Validate()...)
	if len(c.Watch) == 0 {
		add("watch", "at least one entry is required")
	}
	seen := map[string]int{}
	for i, w := range c.Watch {
		f := fmt.Sprintf("watch[%d]", i)
		switch {
		case w.All && w.Server != "":
			add(f+".all", "set server or all, not both")
		case !w.All && strings.TrimSpace(w.Server) == "":
			add(f+".server", "required (a server name or id), or all: true")
		}
		if w.Tenant != "" && a.ProjectID != "" {
			add(f+".tenant", "tenant names a project in auth's project domain; set auth.project, not auth.project_id, to use it")
		}
		if w.Interval < 0 || w.Interval > 0 && w.Interval < minInterval {
			add(f+".interval", "must be at least %s, got %s", minInterval, w.Interval)
		}
		k := w.key(a.project())
		if j, ok := seen[k]; ok {
			add(f, "duplicates watch[%d]", j)
		}
		seen[k] = i
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"endpoint", c.Endpoint != ""}, {"approve", c.Approve != nil}, {"vm_name", c.VMName != ""}, {"token_ttl", c.TokenTTL != 0}} {
		if f.set {
			add(f.name, "applies to the instance metadata providers (azure, aws) only")
		}
	}
	return errs
}

// validateMetadata checks the keys of the instance metadata providers.
func (c *Config) validateMetadata() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if c.Endpoint != "" {
		if err := checkURL(c.Endpoint); err != nil {
			add("endpoint", "%v", err)
		}
	}
	if c.Approve != nil && c.Approve.After < 0 {
		add("approve.after", "must not be negative, got %s", c.Approve.After)
	}
	if c.Approve != nil && c.Provider != ProviderAzure {
		add("approve", "applies to provider azure only")
	}
	if c.TokenTTL != 0 && c.Provider != ProviderAWS {
		add("token_ttl", "applies to provider aws only")
	}
	if c.TokenTTL < 0 || c.TokenTTL > maxAWSTokenTTL || c.TokenTTL%time.Second != 0 {
		add("token_ttl", "must be whole seconds between 1s and %s, got %s", maxAWSTokenTTL, c.TokenTTL)
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"auth", c.Auth != AuthConfig{}}, {"watch", len(c.Watch) > 0}, {"microversion", c.Microversion != ""},
		{"concurrency", c.Concurrency != 0}, {"page_size", c.PageSize != 0}, {"stopped_is_fault", c.StoppedIsFault},
		{"tls", !c.TLS.IsZero()},
	} {
		if f.set {
			add(f.name, "applies to provider openstack only")
		}
	}
	return errs
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("must be an http or https URL with a host, got %q", s)
	}
	if u.User != nil {
		return errors.New("must not carry credentials; use auth.username and auth.password")
	}
	return nil
}

// project is the project the token is scoped to, by name or id.
func (a AuthConfig) project() string {
	if a.Project != "" {
		return a.Project
	}
	return a.ProjectID
}

// key identifies a watch entry in the source's state: the project and
// the server (or "*"), each path-escaped.
func (w WatchEntry) key(defaultProject string) string {
	t := w.Tenant
	if t == "" {
		t = defaultProject
	}
	s := "*"
	if !w.All {
		s = w.Server
	}
	return url.PathEscape(t) + "/" + url.PathEscape(s)
}

// withDefaults returns c with every unset field at its default.
func (c Config) withDefaults() Config {
	if c.Interval == 0 {
		c.Interval = defaultOpenStackEvery
		switch c.Provider {
		case ProviderAzure:
			c.Interval = defaultAzureEvery
		case ProviderAWS:
			c.Interval = defaultAWSEvery
		case ProviderGCP:
			c.Interval = defaultGCPPause
		}
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.Microversion == "" {
		c.Microversion = DefaultMicroversion
	}
	if c.Concurrency == 0 {
		c.Concurrency = defaultConcurrency
	}
	if c.PageSize == 0 {
		c.PageSize = defaultPageSize
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = defaultMaxResponseBytes
	}
	if c.Auth.Interface == "" {
		c.Auth.Interface = InterfacePublic
	}
	if c.Endpoint == "" {
		c.Endpoint = defaultMetadataEndpoint
		if c.Provider == ProviderGCP {
			c.Endpoint = defaultGCPEndpoint
		}
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = defaultAWSTTL
	}
	if c.VMName == "" {
		c.VMName, _ = os.Hostname()
	}
	return c
}
