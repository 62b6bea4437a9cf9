package probesource

import (
	"time"

	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

// Probe kinds.
const (
	KindHTTP       = "http"
	KindHTTPS      = "https"
	KindTCP        = "tcp"
	KindExec       = "exec"
	KindHostPlugin = "hostplugin"
)

// Redirect policies of http probes.
const (
	RedirectsNone     = "none"
	RedirectsSameHost = "same_host"
	RedirectsAny      = "any"
)

// Config is the probe source's configuration. It describes one probe
// (`with: {kind: http, url: ..., interval: 15s}`), or, with Probes, a list
// of probes run by one source; then the fields marked "shared" are the
// defaults of every probe in the list, and the others must be set on each
// probe.
//
// Fields left unset take the default of the probe's kind. Zero is unset
// for the thresholds, as in Kubernetes.
type Config struct {
	// Name names the probe: the subject of its events and its key in the
	// source's journal state. Default: the source's name. Required (and
	// unique) for each element of Probes.
	Name string `yaml:"name"`
	// Kind is http, https (an http probe that requires an https URL), tcp,
	// exec or hostplugin. Required; shared.
	Kind string `yaml:"kind"`

	// Interval between checks: DCAE syntax ("15", "15s", "2m") or a Go
	// duration. Default 15s (the DCAE plugin's), 1m for hostplugin (as
	// WALinuxAgent). Shared.
	Interval Interval `yaml:"interval"`
	// Timeout of one check. Default 1s (DCAE and Kubernetes), 10s for
	// hostplugin (WALinuxAgent's socket timeout; each of the two requests
	// gets it). Shared.
	Timeout Interval `yaml:"timeout"`
	// InitialDelay before the first check. Default 0. Shared.
	InitialDelay Interval `yaml:"initial_delay"`
	// Jitter spreads the probes: the first check waits a random time in
	// [0, jitter) after the initial delay, and later checks keep that
	// phase. Default 0 for a single probe and the interval for each probe
	// of a list, so that many probes at one interval never fire together.
	// Shared.
	Jitter Interval `yaml:"jitter"`
	// FailureThreshold is how many consecutive failed checks make a probe
	// unhealthy. Default 3 (Kubernetes), 1 for hostplugin. Shared.
	FailureThreshold int `yaml:"failure_threshold"`
	// SuccessThreshold is how many consecutive successful checks make a
	// probe healthy. Default 1. Shared.
	SuccessThreshold int `yaml:"success_threshold"`

	// Heartbeat, when positive, adds a sluice.probe.heartbeat event with
	// the current state to the first check at least this long after the
	// last heartbeat. Default off (0), 1m for hostplugin (the cadence of
	// WALinuxAgent's GuestAgentPluginHeartbeat). Shared.
	Heartbeat Interval `yaml:"heartbeat"`
	// Results, when true, emits a sluice.probe.result event for every
	// check; noisy, and each is a journal write. Default false. Shared.
	Results *bool `yaml:"results"`
	// Severity of events that report an unhealthy state or check. Default
	// error. Shared.
	Severity *pipeline.Severity `yaml:"severity"`

	// URL of an http or https probe. Required for those kinds.
	URL string `yaml:"url"`
	// Method of the request. Default GET.
	Method string `yaml:"method"`
	// Headers added to the request. Values are secrets (never logged), so
	// an Authorization header is safe here.
	Headers map[string]pipeline.Secret `yaml:"headers"`
	// Body of the request. Default none.
	Body string `yaml:"body"`
	// ExpectStatus lists the healthy status codes: codes ("204"), ranges
	// ("200-299") or classes ("2xx"). Default 200-399, as Kubernetes.
	ExpectStatus []string `yaml:"expect_status"`
	// ExpectBody, when set, must occur in the response body.
	ExpectBody string `yaml:"expect_body"`
	// ExpectBodyRegex, when set, must match the response body (RE2
	// syntax).
	ExpectBodyRegex string `yaml:"expect_body_regex"`
	// FollowRedirects is none (default: a redirect is judged by its own
	// status), same_host (follow only to the same host:port, as
	// Kubernetes) or any. A redirect from https to http is never
	// followed (the check fails), and one to another host is sent
	// without the configured headers.
	FollowRedirects string `yaml:"follow_redirects"`
	// MaxRedirects bounds the redirects followed. Default 10.
	MaxRedirects int `yaml:"max_redirects"`
	// AllowInsecureAuth accepts a password in a plain http URL
	// (http://user:pw@host/) to a host that is not loopback. Default
	// false: refused, since the password would cross the network in
	// clear (internal/httpclient.CheckCredentialTransport).
	AllowInsecureAuth bool `yaml:"allow_insecure_auth"`
	// TLS configures https (and client certificates). Shared.
	TLS TLSConfig `yaml:"tls"`
	// KeepAlive reuses connections between checks (a few per host).
	// Default true: at a thousand probes a second, a new connection per
	// check costs more CPU than the check. False opens a new connection
	// for every check, as the kubelet does, so that a server that stopped
	// accepting connections cannot look healthy on an old one. Shared.
	KeepAlive *bool `yaml:"keep_alive"`

	// MaxResponseBytes bounds what an http, tcp or hostplugin probe reads
	// of a response; body matching sees only this prefix. Default 64KiB,
	// at most 16MiB.
	MaxResponseBytes pipeline.ByteSize `yaml:"max_response_bytes"`

	// Address is the host:port of a tcp probe. Required for that kind.
	Address string `yaml:"address"`
	// Send is written after connecting. Default nothing.
	Send string `yaml:"send"`
	// Expect, when set, must occur in what the peer sends back.
	Expect string `yaml:"expect"`

	// Command is what an exec probe runs: a list (argv, no shell) or one
	// string (split on spaces, or given to /bin/sh -c with Shell). Exit
	// status 0 is healthy. Required for that kind.
	Command Command `yaml:"command"`
	// Shell runs the command with /bin/sh -c. Default false.
	Shell bool `yaml:"shell"`
	// Env is the command's whole environment, besides PATH (Sluice's own
	// unless Env sets it). Values are secrets. Default empty.
	Env map[string]pipeline.Secret `yaml:"env"`
	// Dir is the command's working directory. Default Sluice's.
	Dir string `yaml:"dir"`
	// User runs the command as this user (a name or a numeric uid), with
	// its primary group unless Group is set and without supplementary
	// groups. Default: nobody when Sluice runs as root, so that a probe
	// never holds root's privileges by accident, and Sluice's own user
	// otherwise. A command handed from root to another user also runs
	// with no_new_privs (setuid programs and file capabilities grant it
	// nothing). user: root keeps root. Another user than Sluice's own
	// needs root. Resolved by Provision.
	User string `yaml:"user"`
	// Group runs the command with this group (a name or a numeric gid).
	// Default: the user's primary group.
	Group string `yaml:"group"`
	// MaxOutputBytes bounds the captured output (stdout and stderr
	// together); the rest is read and discarded. Default 4KiB, at most
	// 1MiB.
	MaxOutputBytes pipeline.ByteSize `yaml:"max_output_bytes"`

	// Endpoint of a hostplugin probe: the HostGAPlugin's host, or
	// host:port. Default 168.63.129.16 (port 32526).
	Endpoint string `yaml:"endpoint"`
	// ContainerID is sent as x-ms-containerid (the goal state's
	// ContainerId). Default none (the header is left out).
	ContainerID string `yaml:"container_id"`
	// VersionsInterval re-reads /versions this often once the plugin
	// supports API 2015-09-01. Until then /versions is read with every
	// check, as WALinuxAgent does. Default 0: never again, as
	// WALinuxAgent.
	VersionsInterval Interval `yaml:"versions_interval"`

	// Probes lists probes run by this source; each takes the keys above.
	Probes []Probe `yaml:"probes"`
}

// Probe is one element of Config.Probes. It has Config's keys (except
// probes); it is a distinct type so that it is validated with its source,
// which supplies the shared defaults.
type Probe Config

// TLSConfig is the client side of TLS for https probes (see
// tlsconfig.Config). Verification is on unless insecure_skip_verify says
// otherwise; the files are read by the source's Provision.
type TLSConfig = tlsconfig.Config

var _ pipeline.Config = (*Config)(nil)

func defaultConfig() *Config { return &Config{} }

// kindDefaults are the defaults that depend on the kind.
type kindDefaults struct {
	interval, timeout, heartbeat time.Duration
	failureThreshold             int
}

func defaultsFor(kind string) kindDefaults {
	if kind == KindHostPlugin {
		return kindDefaults{interval: time.Minute, timeout: 10 * time.Second, heartbeat: time.Minute, failureThreshold: 1}
	}
	return kindDefaults{interval: 15 * time.Second, timeout: time.Second, failureThreshold: 3}
}

// Limits and fixed defaults.
const (
	minInterval             = 10 * time.Millisecond
	defaultMaxResponseBytes = 64 << 10
	maxResponseBytesLimit   = 16 << 20
	defaultMaxOutputBytes   = 4 << 10
	maxOutputBytesLimit     = 1 << 20
	defaultMaxRedirects     = 10
	defaultHostPlugin       = "168.63.129.16"
	hostPluginPort          = "32526"
)
