package probesource

import (
	"encoding/json"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Event types.
const (
	// TypeState is emitted on every state transition.
	TypeState = "sluice.probe.state"
	// TypeHeartbeat carries the current state periodically (heartbeat).
	TypeHeartbeat = "sluice.probe.heartbeat"
	// TypeResult is emitted for every check when results is on.
	TypeResult = "sluice.probe.result"
	// TypeHostPluginVersions is a hostplugin probe's /versions answer.
	TypeHostPluginVersions = "sluice.hostplugin.versions"
)

// probeData is the data of state, heartbeat and result events. See
// doc.go for the meaning of each field.
type probeData struct {
	Probe                string    `json:"probe"`
	Kind                 string    `json:"kind"`
	Target               string    `json:"target"`
	From                 string    `json:"from,omitempty"`
	To                   string    `json:"to,omitempty"`
	State                string    `json:"state"`
	Since                time.Time `json:"since,omitzero"`
	Healthy              bool      `json:"healthy"`
	Error                string    `json:"error,omitempty"`
	ConsecutiveFailures  int       `json:"consecutive_failures"`
	ConsecutiveSuccesses int       `json:"consecutive_successes"`
	FailureThreshold     int       `json:"failure_threshold"`
	SuccessThreshold     int       `json:"success_threshold"`
	FailingSince         time.Time `json:"failing_since,omitzero"`
	LastError            string    `json:"last_error,omitempty"`
	LastErrorAt          time.Time `json:"last_error_at,omitzero"`
	LatencyMS            float64   `json:"latency_ms"`
	CheckedAt            time.Time `json:"checked_at"`
	StatusCode           int       `json:"status_code,omitempty"`
	UpstreamFailure      bool      `json:"upstream_failure,omitempty"`
	ExitCode             *int      `json:"exit_code,omitempty"`
	Output               string    `json:"output,omitempty"`
	OutputTruncated      bool      `json:"output_truncated,omitempty"`
	Interval             string    `json:"interval"`
}

// newData describes the check o that led to state s.
func (p *probe) newData(s probeState, o outcome, latency time.Duration, now time.Time) probeData {
	d := probeData{
		Probe: p.spec.name, Kind: p.spec.kind, Target: p.check.target(),
		State: s.state, Since: s.since, Healthy: o.healthy, Error: o.err,
		ConsecutiveFailures: s.failures, ConsecutiveSuccesses: s.successes,
		FailureThreshold: p.spec.failureThreshold, SuccessThreshold: p.spec.successThreshold,
		FailingSince: s.failingSince, LastError: s.lastError, LastErrorAt: s.lastErrorAt,
		LatencyMS: durationMS(latency), CheckedAt: now,
		StatusCode: o.statusCode, UpstreamFailure: o.upstreamFailure,
		Output: o.output, OutputTruncated: o.truncated,
		Interval: p.spec.interval.String(),
	}
	if p.spec.kind == KindExec {
		code := o.exitCode
		d.ExitCode = &code
	}
	return d
}

// event builds one event of the probe. Unhealthy ones get the probe's
// severity; the rest are informational.
func (p *probe) event(typ string, healthy bool, data any, now time.Time) (pipeline.Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return pipeline.Event{}, err
	}
	sev := pipeline.SeverityInfo
	if !healthy {
		sev = p.spec.severity
	}
	return pipeline.Event{
		Type: typ, Subject: p.spec.name, Time: now, Severity: sev,
		DataContentType: "application/json", Data: b,
	}, nil
}
