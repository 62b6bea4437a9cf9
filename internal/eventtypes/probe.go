package eventtypes

import "time"

// Event types of the probe source. Every one has the probe's name as
// subject and the time of the check; unhealthy ones carry the probe's
// severity, the others are info.
const (
	// ProbeState is emitted on every state transition (from unknown, too).
	ProbeState = "sluice.probe.state"
	// ProbeHeartbeat carries a probe's current state periodically, with
	// the first check at least `heartbeat` after the last one.
	ProbeHeartbeat = "sluice.probe.heartbeat"
	// ProbeResult is emitted for every check when `results` is on.
	ProbeResult = "sluice.probe.result"
	// ProbeFailure is reserved for sources that emit probe failures as
	// events of their own; the VES sink sends it as a fault.
	ProbeFailure = "sluice.probe.failure"
	// ProbeFault is reserved, as ProbeFailure.
	ProbeFault = "sluice.probe.fault"
	// HostPluginVersions is a hostplugin probe's /versions answer.
	HostPluginVersions = "sluice.hostplugin.versions"
)

// Probe states, in ProbeData.State, From and To.
const (
	ProbeUnknown   = "unknown"
	ProbeHealthy   = "healthy"
	ProbeUnhealthy = "unhealthy"
)

// ProbeData is the data of ProbeState, ProbeHeartbeat and ProbeResult
// events. After a restart the streak counts resume from at most their
// thresholds (what is saved); FailingSince stays exact.
type ProbeData struct {
	// Probe is the probe's name.
	Probe string `json:"probe"`
	// Kind is http, https, tcp, exec or hostplugin.
	Kind string `json:"kind"`
	// Target is the URL (password redacted), host:port, command or
	// plugin base URL.
	Target string `json:"target"`
	// From and To are the transition (ProbeState only).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// State is unknown, healthy or unhealthy, after this check.
	State string `json:"state"`
	// Since is when the probe entered State.
	Since time.Time `json:"since,omitzero"`
	// Healthy is this check's result.
	Healthy bool `json:"healthy"`
	// Error says why this check failed ("" if it succeeded).
	Error string `json:"error,omitempty"`
	// ConsecutiveFailures and ConsecutiveSuccesses are the current streaks.
	ConsecutiveFailures  int `json:"consecutive_failures"`
	ConsecutiveSuccesses int `json:"consecutive_successes"`
	FailureThreshold     int `json:"failure_threshold"`
	SuccessThreshold     int `json:"success_threshold"`
	// FailingSince is when the current failure streak began (absent
	// after a success).
	FailingSince time.Time `json:"failing_since,omitzero"`
	// LastError and LastErrorAt are the most recent failure, kept after
	// recovery.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LatencyMS is this check's duration in milliseconds.
	LatencyMS float64 `json:"latency_ms"`
	// CheckedAt is when this check ended.
	CheckedAt time.Time `json:"checked_at"`
	// StatusCode is the HTTP status (http, https, hostplugin /health).
	StatusCode int `json:"status_code,omitempty"`
	// UpstreamFailure marks a hostplugin 502: the plugin's upstream failed.
	UpstreamFailure bool `json:"upstream_failure,omitempty"`
	// ExitCode is an exec probe's exit status, -1 if it did not exit.
	ExitCode *int `json:"exit_code,omitempty"`
	// Output is what an exec probe printed, or a tcp peer sent, up to the
	// bound; OutputTruncated says the bound cut it.
	Output          string `json:"output,omitempty"`
	OutputTruncated bool   `json:"output_truncated,omitempty"`
	// Interval is the probe's interval, as a Go duration.
	Interval string `json:"interval"`
}

// HostPluginVersionsData is the data of a HostPluginVersions event,
// judged as WALinuxAgent's get_api_versions does.
type HostPluginVersionsData struct {
	Probe    string `json:"probe"`
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint"`
	// Healthy is false only when the plugin itself failed (a network
	// error, a 410, a 400 for an invalid container, a 5xx other than 502).
	Healthy bool `json:"healthy"`
	// Supported says whether Versions lists APIVersion.
	Supported  bool     `json:"supported"`
	APIVersion string   `json:"api_version"`
	Versions   []string `json:"versions"`
	StatusCode int      `json:"status_code,omitempty"`
	// UpstreamFailure marks a 502: the plugin's upstream failed.
	UpstreamFailure bool `json:"upstream_failure,omitempty"`
	// Value is read_response_error's text, as the agent reports it.
	Value     string    `json:"value"`
	Error     string    `json:"error,omitempty"`
	LatencyMS float64   `json:"latency_ms"`
	CheckedAt time.Time `json:"checked_at"`
}
