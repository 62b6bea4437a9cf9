package probesource

import (
	"bytes"
	"strconv"
	"strings"
)

// readResponseError renders an HTTP failure as WALinuxAgent's
// restutil.read_response_error does under Python 3:
//
//	"[HTTP Failed] [{status}: {reason}] {repr(body bytes)}"
//
// The result is ASCII by construction (a bytes repr escapes the rest), so
// its ascii-encode and replace_non_ascii steps change nothing.
func readResponseError(status int, reason string, body []byte) string {
	var b strings.Builder
	b.WriteString("[HTTP Failed] [")
	b.WriteString(strconv.Itoa(status))
	b.WriteString(": ")
	// The reason phrase comes from the server; drop what Python's ASCII
	// step would drop.
	for _, r := range reason {
		if r < 0x80 {
			b.WriteRune(r)
		}
	}
	b.WriteString("] ")
	b.WriteString(pyBytesRepr(body))
	return b.String()
}

// pyBytesRepr is Python 3's repr() of a bytes object: b'...', or b"..."
// when the bytes hold a single quote and no double quote; backslash, the
// quote, \t, \n and \r escaped, other bytes outside 0x20-0x7e as \xNN
// (lower-case hex).
func pyBytesRepr(p []byte) string {
	quote := byte('\'')
	if bytes.IndexByte(p, '\'') >= 0 && bytes.IndexByte(p, '"') < 0 {
		quote = '"'
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(p)+3)
	out = append(out, 'b', quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			out = append(out, '\\', c)
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c < 0x20 || c >= 0x7f:
			out = append(out, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return string(append(out, quote))
}
