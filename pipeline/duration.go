package pipeline

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Errors returned (wrapped) by ParseDuration. ErrDurationRange wraps
// ErrInvalidDuration.
var (
	ErrInvalidDuration = errors.New("invalid duration")
	ErrDurationRange   = fmt.Errorf("%w: too large", ErrInvalidDuration)
)

// ParseDuration parses Sluice's one duration grammar. config decodes
// every time.Duration setting with it, the probe source its intervals, and
// the command line its duration flags and variables:
//
//   - a Go duration: "1h30m", "250ms", "1.5s", "-1s" (a sign is allowed;
//     settings that cannot be negative say so when validated);
//   - a bare whole number of seconds: "30" is 30s and "0" is 0, as in the
//     ONAP DCAE health specs the probe source reads ("30", "30s", "2m").
//
// Nothing else is a duration: no spaces, no upper-case units, no days
// ("30d"), no bare fractions ("1.5"). The error wraps ErrInvalidDuration
// and carries DurationHint's suggestion.
func ParseDuration(s string) (time.Duration, error) {
	if isDigits(s) {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n > math.MaxInt64/uint64(time.Second) {
			return 0, fmt.Errorf("%w: %q seconds", ErrDurationRange, s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: want a duration such as 30s, 1m30s or 250ms, got %q%s", ErrInvalidDuration, s, DurationHint(s))
	}
	return d, nil
}

// DurationHint suggests a valid spelling of s, which ParseDuration
// rejected, as ` (did you mean "1.5s"?)`, or returns "" when it sees
// none: units spelled out or upper-cased ("30 sec", "5MIN", "2 hours"),
// days and weeks ("2d" is "48h"), spaces between parts ("1h 30m") and
// bare fractions ("1.5").
func DurationHint(s string) string {
	if fix := suggestDuration(s); fix != "" && fix != s {
		return " (did you mean " + strconv.Quote(fix) + "?)"
	}
	return ""
}

// durationUnits maps unit spellings (lower-case) to a Go unit and a
// multiplier of it.
var durationUnits = map[string]struct {
	unit string
	mult float64
}{
	"": {"s", 1}, "s": {"s", 1}, "sec": {"s", 1}, "secs": {"s", 1}, "second": {"s", 1}, "seconds": {"s", 1},
	"m": {"m", 1}, "min": {"m", 1}, "mins": {"m", 1}, "minute": {"m", 1}, "minutes": {"m", 1},
	"h": {"h", 1}, "hr": {"h", 1}, "hrs": {"h", 1}, "hour": {"h", 1}, "hours": {"h", 1},
	"d": {"h", 24}, "day": {"h", 24}, "days": {"h", 24}, "w": {"h", 168}, "week": {"h", 168}, "weeks": {"h", 168},
	"ms": {"ms", 1}, "msec": {"ms", 1}, "msecs": {"ms", 1}, "millis": {"ms", 1}, "millisecond": {"ms", 1}, "milliseconds": {"ms", 1},
	"us": {"us", 1}, "µs": {"us", 1}, "usec": {"us", 1}, "microsecond": {"us", 1}, "microseconds": {"us", 1},
	"ns": {"ns", 1}, "nsec": {"ns", 1}, "nanosecond": {"ns", 1}, "nanoseconds": {"ns", 1},
}

// suggestDuration rewrites s as number-unit parts in Go's spelling, or
// returns "" when s is not made of such parts (or the rewrite does not
// parse either).
func suggestDuration(s string) string {
	t := strings.ToLower(strings.Join(strings.Fields(s), ""))
	if t == "" || len(t) > 64 {
		return ""
	}
	sign := ""
	if t[0] == '-' || t[0] == '+' {
		sign, t = t[:1], t[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for t != "" {
		i := 0
		for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
			i++
		}
		j := i
		for j < len(t) && (t[j] < '0' || t[j] > '9') && t[j] != '.' {
			j++
		}
		num, word := t[:i], t[i:j]
		u, ok := durationUnits[word]
		if num == "" || !ok || word == "" && j < len(t) {
			return ""
		}
		if u.mult != 1 {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return ""
			}
			num = strconv.FormatFloat(f*u.mult, 'f', -1, 64)
		}
		b.WriteString(num + u.unit)
		t = t[j:]
	}
	fix := b.String()
	if _, err := time.ParseDuration(fix); err != nil {
		return ""
	}
	return fix
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
