package hostpluginsink

import (
	"unicode/utf8"
)

// Limits WALinuxAgent's Observation.as_obj applies, in Unicode code points,
// before JSON escaping.
const (
	maxNameChars        = 64
	maxDescriptionChars = 128
	maxValueChars       = 128
)

// Observation is one health observation as the HealthService receives it.
type Observation struct {
	// Name is the ObservationName, such as GuestAgentPluginHeartbeat.
	Name string
	// IsHealthy is the reported health (after the error state).
	IsHealthy bool
	// Description and Value are free text; empty is sent as "".
	Description string
	Value       string
}

// AppendBody appends the HealthService request body for observations to
// dst, byte for byte as WALinuxAgent 2.7's HealthService.as_json writes
// it: Python json.dumps with its default separators (", " and ": "),
// ensure_ascii escaping, keys in the agent's order, and the name,
// description and value cut to 64, 128 and 128 code points before
// escaping. Source is written whole, as the agent does.
//
// Go strings may hold invalid UTF-8, which a Python str cannot: each
// invalid byte counts as one code point and is written as \ufffd.
func AppendBody(dst []byte, source string, observations ...Observation) []byte {
	dst = append(dst, `{"Api": "reporttargethealth", "Version": "1.0", "Source": `...)
	dst = appendPyString(dst, source, -1)
	dst = append(dst, `, "Observations": [`...)
	for i := range observations {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		o := &observations[i]
		dst = append(dst, `{"ObservationName": `...)
		dst = appendPyString(dst, o.Name, maxNameChars)
		if o.IsHealthy {
			dst = append(dst, `, "IsHealthy": true, "Description": `...)
		} else {
			dst = append(dst, `, "IsHealthy": false, "Description": `...)
		}
		dst = appendPyString(dst, o.Description, maxDescriptionChars)
		dst = append(dst, `, "Value": `...)
		dst = appendPyString(dst, o.Value, maxValueChars)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

const hexDigits = "0123456789abcdef"

// appendPyString appends s as a JSON string the way Python's json.dumps
// does with ensure_ascii=True, keeping at most limit code points of s
// (all of it when limit < 0): printable ASCII other than " and \ as is;
// \" \\ \n \r \t \b \f; every other character as \uXXXX in lower-case
// hex, characters beyond the BMP as a surrogate pair.
func appendPyString(dst []byte, s string, limit int) []byte {
	dst = append(dst, '"')
	n := 0
	for i := 0; i < len(s); {
		if limit >= 0 && n == limit {
			break
		}
		n++
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= ' ' && c <= '~' && c != '"' && c != '\\':
				// Copy the run of plain ASCII at once.
				j := i
				for j < len(s) && (limit < 0 || n < limit) {
					d := s[j]
					if d < ' ' || d > '~' || d == '"' || d == '\\' {
						break
					}
					j++
					n++
				}
				dst = append(dst, s[i-1:j]...)
				i = j
			case c == '"':
				dst = append(dst, '\\', '"')
			case c == '\\':
				dst = append(dst, '\\', '\\')
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == '\b':
				dst = append(dst, '\\', 'b')
			case c == '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = appendU4(dst, rune(c))
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r > 0xFFFF {
			r -= 0x10000
			dst = appendU4(dst, 0xD800+(r>>10))
			dst = appendU4(dst, 0xDC00+(r&0x3FF))
			continue
		}
		dst = appendU4(dst, r) // invalid bytes decode as U+FFFD
	}
	return append(dst, '"')
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}
