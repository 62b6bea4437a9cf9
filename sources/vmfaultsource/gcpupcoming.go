package vmfaultsource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// gcpUpcoming is one instance/upcoming-maintenance window.
type gcpUpcoming struct {
	// Type is SCHEDULED or UNSCHEDULED, as GCE writes it.
	Type string
	// Status is maintenance_status: PENDING, ONGOING or COMPLETE.
	Status string
	// state is Status in Sluice's words.
	state                  string
	WindowStart, WindowEnd time.Time
	LatestWindowStart      time.Time
	CanReschedule          bool
	Reasons                []string
}

// gcpUpcomingStates maps maintenance_status to maintenance states.
var gcpUpcomingStates = map[string]string{
	"PENDING": MaintenanceScheduled, "ONGOING": MaintenanceStarted, "COMPLETE": MaintenanceCompleted,
}

// parseGCPUpcoming reads an upcoming-maintenance?alt=json answer: nil for
// none ({} or an empty body), else a window. Keys are accepted in the
// metadata server's snake_case (maintenance_status, window_start_time)
// and in the Compute API's camelCase (maintenanceStatus,
// windowStartTime), since Google's documentation shows both. A window
// needs a known maintenance_status and an RFC 3339 window_start_time; a
// member of the wrong type, an unknown status or an unreadable time is an
// error, never "nothing upcoming".
func parseGCPUpcoming(b []byte) (*gcpUpcoming, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: gcp upcoming-maintenance: %w", ErrMalformed, err)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	fields := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		fields[strings.ToLower(strings.ReplaceAll(k, "_", ""))] = v
	}
	var u gcpUpcoming
	var errs []string
	str := func(key string, required bool) string {
		v, ok := fields[key]
		if !ok || string(v) == "null" {
			if required {
				errs = append(errs, key+" missing")
			}
			return ""
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			errs = append(errs, key+" is not a string")
		} else if s == "" && required {
			errs = append(errs, key+" is empty")
		}
		return s
	}
	at := func(key string, required bool) time.Time {
		s := str(key, required)
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s %q is not RFC 3339", key, s))
		}
		return t.UTC()
	}
	u.Type = str("type", false)
	u.Status = str("maintenancestatus", true)
	u.WindowStart = at("windowstarttime", true)
	u.WindowEnd = at("windowendtime", false)
	u.LatestWindowStart = at("latestwindowstarttime", false)
	if v, ok := fields["canreschedule"]; ok {
		var flag any
		_ = json.Unmarshal(v, &flag)
		switch flag {
		case true, "true":
			u.CanReschedule = true
		case false, "false", nil:
		default:
			errs = append(errs, "can_reschedule is not a boolean")
		}
	}
	if v, ok := fields["maintenancereasons"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &u.Reasons); err != nil {
			errs = append(errs, "maintenance_reasons is not a list of strings")
		}
	}
	if u.Type == "" {
		u.Type = "SCHEDULED"
	}
	state, known := gcpUpcomingStates[u.Status]
	switch {
	case len(errs) > 0:
	case !known:
		errs = append(errs, fmt.Sprintf("unknown maintenance_status %q", u.Status))
	case !gcpWord(u.Type) || len(u.Type) > gcpMaxValue:
		errs = append(errs, fmt.Sprintf("unexpected type %q", u.Type))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: gcp upcoming-maintenance: %s", ErrMalformed, strings.Join(errs, "; "))
	}
	u.state = state
	return &u, nil
}
