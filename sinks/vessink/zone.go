package vessink

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// loadZone resolves a time_zone setting: "Local", "UTC", "UTC±hh:mm" or an
// IANA name (read from the system's zoneinfo).
func loadZone(name string) (*time.Location, error) {
	if loc, err := fixedZone(name); err == nil {
		return loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time_zone %q: %w", name, err)
	}
	return loc, nil
}

// fixedZone parses the settings that need no zoneinfo lookup.
func fixedZone(name string) (*time.Location, error) {
	switch name {
	case "Local":
		return time.Local, nil
	case "UTC", "UTC+00:00", "UTC-00:00":
		return time.UTC, nil
	}
	rest, ok := strings.CutPrefix(name, "UTC")
	if !ok || len(rest) != len("+hh:mm") || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return nil, errors.New(`must be "Local", "UTC", a fixed offset such as "UTC+05:30", or an IANA zone name such as "Europe/Paris", got ` + strconv.Quote(name))
	}
	h, err1 := strconv.Atoi(rest[1:3])
	m, err2 := strconv.Atoi(rest[4:6])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return nil, fmt.Errorf("invalid offset %q: want UTC+hh:mm with hh at most 14", name)
	}
	off := h*3600 + m*60
	if rest[0] == '-' {
		off = -off
	}
	return time.FixedZone(name, off), nil
}

// ianaName reports whether name looks like an IANA zone name
// ("Area/Location"); whether it exists is checked when the sink is built.
func ianaName(name string) bool {
	if !strings.Contains(name, "/") || strings.Contains(name, "..") || strings.Contains(name, "//") ||
		strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return false
	}
	for _, r := range name {
		if !isAlnum(r) && !strings.ContainsRune("/_-+", r) {
			return false
		}
	}
	return true
}

// appendZoneOffset appends the VES timeZoneOffset of t in loc, e.g.
// "UTC+05:30" or "UTC-08:00" (DST applies at t).
func appendZoneOffset(dst []byte, t time.Time, loc *time.Location) []byte {
	_, off := t.In(loc).Zone()
	dst = append(dst, "UTC"...)
	if off < 0 {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	h, m := off/3600, off%3600/60
	dst = append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10))
	return dst
}
