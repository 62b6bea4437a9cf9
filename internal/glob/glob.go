// Package glob is Sluice's one pattern grammar, used wherever a config
// matches names with wildcards: route matches (types, subjects and
// attribute values) and the type patterns of every sink's rules.
//
// The grammar:
//
//	pattern  matches
//	*        any run of characters, including none; it crosses '.' and '/'
//	?        exactly one character (one UTF-8 encoded code point)
//	other    the character itself, case-sensitively
//
// There are no character classes and no escapes; '[' and '\' are
// reserved (Validate rejects them), so that a pattern written for
// path.Match or a shell ("vm[12]", "a\*") is an error rather than a
// literal; ? matches a literal * or ?. So "sluice.vm.*" matches
// "sluice.vm.fault" and "sluice.vm.fault.cleared", and "*/health" matches
// "http://10.0.0.1/health". A pattern must not be empty; "*" matches
// everything.
package glob

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Errors returned by Validate.
var (
	// ErrEmpty is returned for an empty pattern.
	ErrEmpty = errors.New("pattern must not be empty (use * for anything)")
	// ErrReserved is returned for a pattern with '[' or '\'.
	ErrReserved = errors.New("[ and \\ are reserved: globs have * (any run) and ? (one character), no classes or escapes")
)

// Validate returns ErrEmpty for an empty pattern and ErrReserved for one
// holding '[' or '\'; every other pattern is valid. (Match treats '['
// and '\' literally; configs never pass them, as loading validates every
// pattern.)
func Validate(pattern string) error {
	switch {
	case pattern == "":
		return ErrEmpty
	case strings.ContainsAny(pattern, `[\`):
		return ErrReserved
	}
	return nil
}

// Match reports whether s matches pattern, without allocating, in
// O(len(pattern)·len(s)) time at worst.
func Match(pattern, s string) bool {
	px, sx := 0, 0
	// The position after the last * and the place in s it resumes from.
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					_, size := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += size
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// Any reports whether s matches any of patterns.
func Any(patterns []string, s string) bool {
	for _, p := range patterns {
		if Match(p, s) {
			return true
		}
	}
	return false
}
