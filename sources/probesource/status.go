package probesource

import (
	"fmt"
	"strconv"
	"strings"
)

// statusRange is an inclusive range of HTTP status codes.
type statusRange struct{ lo, hi int }

// statusSet is the compiled expect_status.
type statusSet []statusRange

// defaultStatus is Kubernetes' rule: 200 <= code < 400.
var defaultStatus = statusSet{{200, 399}}

// parseStatus parses one expect_status entry: a code ("204"), a range
// ("200-299") or a class ("2xx").
func parseStatus(s string) (statusRange, error) {
	t := strings.TrimSpace(s)
	if len(t) == 3 && (strings.HasSuffix(t, "xx") || strings.HasSuffix(t, "XX")) && t[0] >= '1' && t[0] <= '5' {
		c := int(t[0]-'0') * 100
		return statusRange{c, c + 99}, nil
	}
	lo, hi, isRange := strings.Cut(t, "-")
	a, err := statusCode(lo)
	if err != nil {
		return statusRange{}, fmt.Errorf("invalid status %q: %w", s, err)
	}
	if !isRange {
		return statusRange{a, a}, nil
	}
	b, err := statusCode(hi)
	if err != nil {
		return statusRange{}, fmt.Errorf("invalid status range %q: %w", s, err)
	}
	if b < a {
		return statusRange{}, fmt.Errorf("invalid status range %q: the end is below the start", s)
	}
	return statusRange{a, b}, nil
}

func statusCode(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("want a code from 100 to 599, a range such as 200-299 or a class such as 2xx")
	}
	return n, nil
}

func (s statusSet) contains(code int) bool {
	for _, r := range s {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// String describes the set for error messages, e.g. "200-399".
func (s statusSet) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		if r.lo == r.hi {
			parts[i] = strconv.Itoa(r.lo)
		} else {
			parts[i] = strconv.Itoa(r.lo) + "-" + strconv.Itoa(r.hi)
		}
	}
	return strings.Join(parts, ", ")
}
