package pipeline

import (
	"errors"
	"time"
)

// errLeapSecond is a second 60 that is not the last second of a UTC day
// at the end of a month.
var errLeapSecond = errors.New("second 60 is a leap second only at 23:59:60 UTC on the last day of a month")

// ParseTime parses an RFC 3339 date-time (the CloudEvents Timestamp
// type) as RFC 3339 §5.6 defines it, which time.RFC3339Nano does not
// fully accept:
//
//   - "T" and "Z" may be lower case ("2024-05-01t10:00:00z");
//   - the second may be 60, a leap second (§5.7), at 23:59:60 UTC on the
//     last day of a month, where leap seconds are inserted (in another
//     offset the local time differs, e.g. 00:59:60+01:00). Go's time
//     cannot hold a leap second, so it becomes the last nanosecond of the
//     second before (23:59:59.999999999 UTC), which keeps the order of
//     events around it and the calendar day it belongs to; its fraction,
//     if any, is dropped.
func ParseTime(s string) (time.Time, error) {
	b := []byte(s)
	if len(b) > 10 && b[10] == 't' {
		b[10] = 'T'
	}
	if n := len(b); n > 0 && b[n-1] == 'z' {
		b[n-1] = 'Z'
	}
	leap := len(b) >= 19 && b[16] == ':' && b[17] == '6' && b[18] == '0'
	if leap {
		b[17], b[18] = '5', '9'
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil || !leap {
		return t, err
	}
	u := t.UTC()
	if u.Hour() != 23 || u.Minute() != 59 || u.AddDate(0, 0, 1).Day() != 1 {
		return time.Time{}, errLeapSecond
	}
	return t.Truncate(time.Second).Add(time.Second - time.Nanosecond), nil
}
