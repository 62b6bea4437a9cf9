package kvpsink

import (
	"time"
)

// FormatTimestamp formats t as cloud-init 22.4 writes the "ts" field:
// Python's datetime.utcfromtimestamp(ts).isoformat() + "Z". That is UTC,
// exactly six fraction digits, or none at all when the microseconds are
// zero ("2023-11-14T22:13:20.123456Z", "2023-11-14T22:13:20Z"). Python
// rounds to the nearest microsecond, ties to even; so does this, on t's
// nanoseconds. Times outside Python's years 1-9999 are clamped to that
// range.
func FormatTimestamp(t time.Time) string {
	return string(appendTimestamp(make([]byte, 0, 27), t))
}

func appendTimestamp(dst []byte, t time.Time) []byte {
	t = roundMicro(t.UTC())
	switch {
	case t.Before(minTime):
		t = minTime
	case t.After(maxTime):
		t = maxTime
	}
	if t.Nanosecond() == 0 {
		dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	} else {
		dst = t.AppendFormat(dst, "2006-01-02T15:04:05.000000")
	}
	return append(dst, 'Z')
}

// The range of Python's datetime.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// roundMicro rounds t to the nearest microsecond, ties to even.
func roundMicro(t time.Time) time.Time {
	ns := t.Nanosecond()
	rem := ns % 1000
	down := t.Add(-time.Duration(rem))
	switch {
	case rem < 500:
		return down
	case rem > 500:
		return down.Add(time.Microsecond)
	case (ns/1000)%2 == 0:
		return down
	default:
		return down.Add(time.Microsecond)
	}
}
