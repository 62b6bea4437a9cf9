package probesource

import (
	"encoding/json"
	"time"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// Event types (documented with their data in internal/eventtypes).
const (
	// TypeState is emitted on every state transition.
	TypeState = eventtypes.ProbeState
	// TypeHeartbeat carries the current state periodically (heartbeat).
	TypeHeartbeat = eventtypes.ProbeHeartbeat
	// TypeResult is emitted for every check when results is on.
	TypeResult = eventtypes.ProbeResult
	// TypeHostPluginVersions is a hostplugin probe's /versions answer.
	TypeHostPluginVersions = eventtypes.HostPluginVersions
)

// probeData is the data of state, heartbeat and result events.
type probeData = eventtypes.ProbeData

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
		DataContentType: eventtypes.ContentType, Data: b,
	}, nil
}
