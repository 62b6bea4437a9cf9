package pipeline

import (
	"fmt"
	"strings"
)

// Severity is an event's level, ordered like syslog's from least to most
// severe. The zero value is SeverityInfo so that events that do not say are
// informational.
type Severity int8

// Severity levels, least severe first.
const (
	SeverityDebug     Severity = -1
	SeverityInfo      Severity = 0
	SeverityNotice    Severity = 1
	SeverityWarning   Severity = 2
	SeverityError     Severity = 3
	SeverityCritical  Severity = 4
	SeverityAlert     Severity = 5
	SeverityEmergency Severity = 6
)

var severityNames = map[Severity]string{
	SeverityDebug:     "debug",
	SeverityInfo:      "info",
	SeverityNotice:    "notice",
	SeverityWarning:   "warning",
	SeverityError:     "error",
	SeverityCritical:  "critical",
	SeverityAlert:     "alert",
	SeverityEmergency: "emergency",
}

// String returns the lower-case name of the level.
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int8(s))
}

// ParseSeverity parses a level name, case-insensitively. "warn" and "err"
// are accepted as aliases.
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "warn":
		return SeverityWarning, nil
	case "err":
		return SeverityError, nil
	case "crit":
		return SeverityCritical, nil
	case "emerg":
		return SeverityEmergency, nil
	}
	for s, sn := range severityNames {
		if sn == n {
			return s, nil
		}
	}
	return SeverityInfo, fmt.Errorf("%w: %q (want debug, info, notice, warning, error, critical, alert or emergency)", ErrInvalidSeverity, name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
