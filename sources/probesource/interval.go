package probesource

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Interval is a duration in the grammar of every Sluice duration
// (pipeline.ParseDuration), which holds both syntaxes probes are written
// in:
//
//   - the ONAP DCAE k8s plugin's, ^([0-9]+)(s|m|h)?$: digits with an
//     optional unit, a bare number being seconds ("30", "30s", "2m",
//     "24h", "05s"). Unlike the plugin's Python regular expression, a
//     trailing newline is not accepted.
//   - a Go duration ("500ms", "1m30s", "1.5s").
//
// A negative value is invalid. An Interval remembers whether it was
// written at all, so that an unset field can take a default (or inherit
// the source's value) while an explicit 0 stays 0. Invalid text is kept
// and reported by Config.Validate as a FieldError, so the config loader
// shows it at its FILE:LINE:COL.
type Interval struct {
	d    time.Duration
	set  bool
	text string
	err  error
}

// errIntervalSyntax explains the accepted forms.
var errIntervalSyntax = errors.New("want seconds (30), a number with s, m or h (30s, 2m, 24h) or a Go duration (500ms, 1m30s)")

// NewInterval returns a set Interval of d.
func NewInterval(d time.Duration) Interval { return Interval{d: d, set: true} }

// ParseInterval parses the DCAE syntax or a Go duration.
func ParseInterval(s string) (Interval, error) {
	d, err := parseInterval(s)
	if err != nil {
		return Interval{}, err
	}
	return Interval{d: d, set: true}, nil
}

// parseInterval reads pipeline.ParseDuration's grammar (every duration
// setting's), which holds the DCAE syntax, and refuses negative values.
func parseInterval(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty interval: %w", errIntervalSyntax)
	}
	d, err := pipeline.ParseDuration(s)
	if errors.Is(err, pipeline.ErrDurationRange) {
		return 0, fmt.Errorf("interval %q is too large", s)
	}
	if err != nil {
		return 0, fmt.Errorf("invalid interval %q: %w%s", s, errIntervalSyntax, pipeline.DurationHint(s))
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid interval %q: must not be negative", s)
	}
	return d, nil
}

// Duration returns the interval; zero if it is unset or invalid.
func (i Interval) Duration() time.Duration { return i.d }

// IsSet reports whether the interval was written (or built with
// NewInterval), even if invalid.
func (i Interval) IsSet() bool { return i.set }

// Err returns the parse error of invalid text, or nil.
func (i Interval) Err() error { return i.err }

// String returns the interval as a Go duration, the text it was written
// as if it is invalid, or "" if it is unset.
func (i Interval) String() string {
	switch {
	case !i.set:
		return ""
	case i.err != nil:
		return i.text
	}
	return i.d.String()
}

// MarshalText implements encoding.TextMarshaler.
func (i Interval) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It never fails:
// invalid text is kept for Config.Validate to report.
func (i *Interval) UnmarshalText(b []byte) error {
	s := string(b)
	d, err := parseInterval(s)
	if err != nil {
		*i = Interval{set: true, text: s, err: err}
		return nil
	}
	*i = Interval{d: d, set: true}
	return nil
}

// or returns i if it is set, else def.
func (i Interval) or(def Interval) Interval {
	if i.set {
		return i
	}
	return def
}
