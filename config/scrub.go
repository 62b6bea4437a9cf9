package config

import (
	"slices"
	"strconv"
	"strings"
)

// minScrubAnywhere is the length from which an interpolated value is
// replaced wherever it occurs in a message; a shorter one only where it
// stands alone (not inside a longer word or number), so that ${PORT}=80
// does not turn "8080" into "80${PORT}".
const minScrubAnywhere = 6

// secretText is a value interpolation produced and the reference text
// that produced it, which messages show instead.
type secretText struct{ value, ref string }

// addSecret records that value came from ref, so that no message shows
// it (scrub). Empty values are not recorded.
func (c *collector) addSecret(value, ref string) {
	if value == "" || value == ref {
		return
	}
	c.secrets = append(c.secrets, secretText{value: value, ref: ref})
	c.scrubList = nil
}

// scrub replaces, in msg, every value interpolation produced with the
// reference that produced it ("${DB_PASS}"), in one pass, longest values
// first; a value is also found in its quoted (%q) form, and a reference
// already in msg is kept as it is. Messages from Validate methods quote
// what they were given; this keeps interpolated secrets out of every
// error and warning.
func (c *collector) scrub(msg string) string {
	if len(c.secrets) == 0 {
		return msg
	}
	if c.scrubList == nil {
		var all []secretText
		for _, s := range c.secrets {
			all = append(all, s)
			if q := strconv.Quote(s.value); q[1:len(q)-1] != s.value {
				all = append(all, secretText{value: q[1 : len(q)-1], ref: s.ref})
			}
		}
		slices.SortStableFunc(all, func(a, b secretText) int { return len(b.value) - len(a.value) })
		c.scrubList = all
	}
	var b strings.Builder
	i := 0
next:
	for i < len(msg) {
		for _, s := range c.scrubList {
			if strings.HasPrefix(msg[i:], s.ref) {
				b.WriteString(s.ref)
				i += len(s.ref)
				continue next
			}
		}
		for _, s := range c.scrubList {
			if strings.HasPrefix(msg[i:], s.value) && (len(s.value) >= minScrubAnywhere || wholeWord(msg, i, i+len(s.value))) {
				b.WriteString(s.ref)
				i += len(s.value)
				continue next
			}
		}
		b.WriteByte(msg[i])
		i++
	}
	return b.String()
}

// wholeWord reports whether msg[i:end] is not part of a longer word.
func wholeWord(msg string, i, end int) bool {
	return (i == 0 || !isWordByte(msg[i-1])) && (end == len(msg) || !isWordByte(msg[end]))
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
