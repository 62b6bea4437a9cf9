package probesource

import (
	"encoding/json"
	"fmt"
	"time"
)

// Probe states.
const (
	StateUnknown   = "unknown"
	StateHealthy   = "healthy"
	StateUnhealthy = "unhealthy"
)

// probeState is a probe's health with Kubernetes semantics: a probe
// becomes unhealthy after failureThreshold consecutive failed checks and
// healthy after successThreshold consecutive successful ones; until either
// happens for the first time it is unknown.
type probeState struct {
	state string
	// since is when the probe entered state (zero while unknown).
	since time.Time
	// failures and successes count the current streak; one is always 0.
	failures, successes int
	// failingSince is when the current failure streak began.
	failingSince time.Time
	// lastError is the most recent failure's message, and lastErrorAt its
	// time; they outlive recoveries.
	lastError   string
	lastErrorAt time.Time
}

func newProbeState() probeState { return probeState{state: StateUnknown} }

// apply returns the state after a check that ended at now.
func (s probeState) apply(o outcome, now time.Time, failureThreshold, successThreshold int) probeState {
	if o.healthy {
		s.successes++
		s.failures = 0
		s.failingSince = time.Time{}
		if s.state != StateHealthy && s.successes >= successThreshold {
			s.state, s.since = StateHealthy, now
		}
		return s
	}
	if s.failures == 0 {
		s.failingSince = now
	}
	s.failures++
	s.successes = 0
	s.lastError, s.lastErrorAt = o.err, now
	if s.state != StateUnhealthy && s.failures >= failureThreshold {
		s.state, s.since = StateUnhealthy, now
	}
	return s
}

// savedState is what the journal keeps of a probe, in the source's state
// under "probe/NAME", written in the same transaction as the events it
// explains. The streak counts are capped at their thresholds, so a probe
// that stays healthy (or stays down) writes nothing; only transitions and
// streaks in progress do.
type savedState struct {
	V            int       `json:"v"`
	State        string    `json:"state"`
	Since        time.Time `json:"since,omitzero"`
	Failures     int       `json:"failures,omitempty"`
	Successes    int       `json:"successes,omitempty"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
}

// savedStateVersion is the V of savedState.
const savedStateVersion = 1

// saved returns what must be persisted of s.
func (s probeState) saved(failureThreshold, successThreshold int) savedState {
	return savedState{
		V: savedStateVersion, State: s.state, Since: s.since,
		Failures: min(s.failures, failureThreshold), Successes: min(s.successes, successThreshold),
		FailingSince: s.failingSince,
	}
}

// needsSave reports whether next differs from s in what is persisted.
func (s probeState) needsSave(next probeState, failureThreshold, successThreshold int) bool {
	return s.saved(failureThreshold, successThreshold) != next.saved(failureThreshold, successThreshold)
}

// encode returns the persisted form, with the last error.
func (s probeState) encode(failureThreshold, successThreshold int) ([]byte, error) {
	v := s.saved(failureThreshold, successThreshold)
	v.LastError, v.LastErrorAt = s.lastError, s.lastErrorAt
	return json.Marshal(v)
}

// decodeState restores a probe's state from the journal.
func decodeState(b []byte) (probeState, error) {
	var v savedState
	if err := json.Unmarshal(b, &v); err != nil {
		return probeState{}, fmt.Errorf("decode probe state: %w", err)
	}
	if v.V != savedStateVersion {
		return probeState{}, fmt.Errorf("decode probe state: unknown version %d", v.V)
	}
	switch v.State {
	case StateUnknown, StateHealthy, StateUnhealthy:
	default:
		return probeState{}, fmt.Errorf("decode probe state: unknown state %q", v.State)
	}
	if v.Failures < 0 || v.Successes < 0 || v.Failures > 0 && v.Successes > 0 {
		return probeState{}, fmt.Errorf("decode probe state: bad streak %d failures, %d successes", v.Failures, v.Successes)
	}
	return probeState{
		state: v.State, since: v.Since, failures: v.Failures, successes: v.Successes,
		failingSince: v.FailingSince, lastError: v.LastError, lastErrorAt: v.LastErrorAt,
	}, nil
}
