package kvpsink

import (
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendPyJSONString appends s as a JSON string literal (with quotes)
// exactly as Python's json.dumps writes it with the default
// ensure_ascii=True: `"` and `\` are escaped with a backslash, \b \f \n
// \r \t by their short escapes, every other byte outside printable ASCII
// (0x20-0x7e, so DEL too) as a lower-case \uXXXX, and characters above
// U+FFFF as a surrogate pair. The result is pure ASCII. Invalid UTF-8 is
// written as U+FFFD (Python strings cannot hold it).
func appendPyJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendPyJSONContent(dst, s)
	return append(dst, '"')
}

// appendPyJSONContent is appendPyJSONString without the quotes.
func appendPyJSONContent(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < utf8.RuneSelf {
			dst = appendEscapedRune(dst, rune(c))
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			dst = appendEscapedRune(dst, r)
			i += size
		}
		start = i
	}
	return append(dst, s[start:]...)
}

// appendEscapedRune appends the escape of one rune that is not printable
// ASCII other than `"` and `\`, or is one of those two.
func appendEscapedRune(dst []byte, r rune) []byte {
	switch r {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if r >= 0x20 && r < 0x7f {
		return append(dst, byte(r))
	}
	if r > 0xffff {
		r -= 0x10000
		dst = appendU(dst, 0xd800+(r>>10))
		return appendU(dst, 0xdc00+(r&0x3ff))
	}
	return appendU(dst, r)
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// pyEscapedLen is the length of r once escaped by appendEscapedRune (or
// written as is): what the character costs in a value.
func pyEscapedLen(r rune) int {
	switch {
	case r >= 0x20 && r < 0x7f && r != '"' && r != '\\':
		return 1
	case r == '"', r == '\\', r == '\b', r == '\f', r == '\n', r == '\r', r == '\t':
		return 2
	case r > 0xffff:
		return 12
	default:
		return 6
	}
}

// pyJSONLen is len(appendPyJSONContent(nil, s)).
func pyJSONLen(s string) int {
	n := 0
	for _, r := range s {
		n += pyEscapedLen(r)
	}
	return n
}
