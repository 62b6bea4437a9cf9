package httpsource

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// decodeHeaderValue turns a binary-mode ce-* header value into an
// attribute value, as the CloudEvents HTTP binding requires: first undo
// RFC 7230 quoted-string escaping (older senders may quote), then one
// round of percent-decoding (lower- or upper-case hex), rejecting results
// that are not valid UTF-8, such as overlong encodings.
//
// A % that does not start a %XY sequence is kept as it is: the CloudEvents
// Go SDK (v2.16) sends values raw, without percent-encoding, so "100%"
// must not be refused. Raw UTF-8 from such senders passes the UTF-8 check.
func decodeHeaderValue(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		u, err := unquote(v)
		if err != nil {
			return "", err
		}
		v = u
	}
	if strings.IndexByte(v, '%') >= 0 {
		v = percentDecode(v)
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

// percentDecode decodes every %XY; any other % is kept literally.
func percentDecode(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			hi, ok1 := unhex(v[i+1])
			lo, ok2 := unhex(v[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
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
