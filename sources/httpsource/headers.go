package httpsource

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decodeHeaderValue turns a binary-mode ce-* header value into an
// attribute value, as the CloudEvents HTTP binding requires: first undo
// RFC 7230 quoted-string escaping (older senders may quote), then one
// round of percent-decoding (lower- or upper-case hex), rejecting results
// that are not valid UTF-8, such as overlong encodings.
func decodeHeaderValue(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		u, err := unquote(v)
		if err != nil {
			return "", err
		}
		v = u
	}
	if strings.IndexByte(v, '%') >= 0 {
		u, err := percentDecode(v)
		if err != nil {
			return "", err
		}
		v = u
	}
	if !utf8.ValidString(v) {
		return "", errors.New("value is not valid UTF-8 after percent-decoding")
	}
	return v, nil
}

// unquote reverses an RFC 7230 quoted-string: "..." with backslash
// escapes.
func unquote(v string) (string, error) {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return "", errors.New("unterminated quoted string")
	}
	inner := v[1 : len(v)-1]
	var b strings.Builder
	b.Grow(len(inner))
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch c {
		case '\\':
			i++
			if i == len(inner) {
				return "", errors.New("quoted string ends with a backslash")
			}
			c = inner[i]
		case '"':
			return "", errors.New("unescaped double quote inside a quoted string")
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// percentDecode decodes every %XY; a % not followed by two hex digits is
// an error.
func percentDecode(v string) (string, error) {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", errors.New("truncated percent-encoding")
		}
		hi, ok1 := unhex(v[i+1])
		lo, ok2 := unhex(v[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("invalid percent-encoding %q", v[i:i+3])
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
