package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problems Check reports, wrapped in an *Error.
var (
	// ErrInvalidUTF8 is a byte sequence that is not UTF-8 (RFC 8259 §8.1).
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrLoneSurrogate is a \u escape of a UTF-16 surrogate that is not
	// part of a pair, which stands for no character (RFC 8259 §8.2).
	ErrLoneSurrogate = errors.New(`\u escape of a lone surrogate`)
	// ErrDuplicateMember is a member name that repeats in one object
	// (RFC 8259 §4; I-JSON, RFC 7493 §2.3, forbids it).
	ErrDuplicateMember = errors.New("duplicate member")
	// ErrSyntax is input that is not one JSON value; callers usually let
	// encoding/json report syntax first.
	ErrSyntax = errors.New("invalid JSON")
	// ErrTooDeep is nesting deeper than MaxDepth.
	ErrTooDeep = errors.New("nested too deeply")
)

// MaxDepth bounds the nesting of arrays and objects Check walks (that of
// encoding/json).
const MaxDepth = 10000

// Error is a problem found by Check, where it was found.
type Error struct {
	// Path is where the problem is: member names and [index] elements
	// from the top value, e.g. ["data", "items", "[2]", "name"]. For a
	// duplicate member, it ends with the repeated name.
	Path []string
	// Offset is the byte offset of the problem in the input.
	Offset int
	// Err is ErrInvalidUTF8, ErrLoneSurrogate, ErrDuplicateMember,
	// ErrSyntax or ErrTooDeep.
	Err error
}

// Attribute returns the first element of Path: for a CloudEvent, the
// attribute the problem is in ("" for the top value itself).
func (e *Error) Attribute() string {
	if len(e.Path) == 0 {
		return ""
	}
	return e.Path[0]
}

// Error implements error: `attribute "data": invalid UTF-8 at
// data.items[2] (byte 57)`, or `duplicate member "id" (byte 40)`.
func (e *Error) Error() string {
	var b strings.Builder
	if len(e.Path) > 0 {
		b.WriteString("attribute ")
		b.WriteString(strconv.Quote(e.Path[0]))
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	switch {
	case errors.Is(e.Err, ErrDuplicateMember):
		b.WriteString(" " + strconv.Quote(e.Path[len(e.Path)-1]))
		if len(e.Path) > 1 {
			b.WriteString(" in " + joinPath(e.Path[:len(e.Path)-1]))
		}
	case len(e.Path) > 1:
		b.WriteString(" at " + joinPath(e.Path))
	}
	b.WriteString(" (byte " + strconv.Itoa(e.Offset) + ")")
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

func joinPath(p []string) string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// Check reports the first problem in the JSON text b that encoding/json
// lets through silently: invalid UTF-8 anywhere (encoding/json replaces
// it with U+FFFD, so that two different inputs decode alike), a \u escape
// of a lone surrogate (replaced alike), and a member name repeated in an
// object (encoding/json keeps the last). Names are compared after
// unescaping, so "a" and "\u0061" are the same name. It returns nil or an
// *Error, checks syntax only as far as it needs to walk b, and never
// panics.
func Check(b []byte) error {
	var stack [16]step // the path of most documents, without allocating
	c := checker{b: b, path: stack[:0]}
	if err := c.value(); err != nil {
		return err
	}
	c.space()
	if c.i != len(c.b) {
		return c.fail(ErrSyntax)
	}
	return nil
}

type checker struct {
	b     []byte
	i     int
	path  []step
	depth int
}

// step is one element of the path to the value being walked: a member
// name (raw, or unescaped when escaped) or an array index. Building the
// path costs no allocation until fail renders it.
type step struct {
	name  []byte
	index int // -1 for a member
}

func (c *checker) fail(err error) error {
	path := make([]string, len(c.path))
	for i, st := range c.path {
		if st.index >= 0 {
			path[i] = "[" + strconv.Itoa(st.index) + "]"
		} else {
			path[i] = string(st.name)
		}
	}
	return &Error{Path: path, Offset: c.i, Err: err}
}

func (c *checker) space() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *checker) value() error {
	c.space()
	if c.i >= len(c.b) {
		return c.fail(ErrSyntax)
	}
	switch c.b[c.i] {
	case '{':
		return c.object()
	case '[':
		return c.array()
	case '"':
		_, _, err := c.str()
		return err
	}
	return c.scalar()
}

// scalar skips a number or a literal; encoding/json judges their syntax.
func (c *checker) scalar() error {
	start := c.i
	for c.i < len(c.b) {
		ch := c.b[c.i]
		if ch >= 0x80 {
			return c.fail(ErrInvalidUTF8) // no scalar holds such a byte
		}
		if ch == ',' || ch == ']' || ch == '}' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' {
			break
		}
		c.i++
	}
	if c.i == start {
		return c.fail(ErrSyntax)
	}
	return nil
}

func (c *checker) enter() error {
	c.depth++
	if c.depth > MaxDepth {
		return c.fail(ErrTooDeep)
	}
	return nil
}

func (c *checker) array() error {
	if err := c.enter(); err != nil {
		return err
	}
	c.i++ // [
	c.space()
	if c.i < len(c.b) && c.b[c.i] == ']' {
		c.i++
		c.depth--
		return nil
	}
	for n := 0; ; n++ {
		c.path = append(c.path, step{index: n})
		if err := c.value(); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		if done, err := c.next(']'); done || err != nil {
			return err
		}
	}
}

// next walks the comma after an element, or the closing byte of the
// container (then done is true).
func (c *checker) next(closing byte) (done bool, err error) {
	c.space()
	if c.i >= len(c.b) {
		return false, c.fail(ErrSyntax)
	}
	switch c.b[c.i] {
	case ',':
		c.i++
		return false, nil
	case closing:
		c.i++
		c.depth--
		return true, nil
	}
	return false, c.fail(ErrSyntax)
}

func (c *checker) object() error {
	if err := c.enter(); err != nil {
		return err
	}
	c.i++ // {
	c.space()
	if c.i < len(c.b) && c.b[c.i] == '}' {
		c.i++
		c.depth--
		return nil
	}
	var few [16][]byte // the names seen, while few
	names := few[:0]
	var seen map[string]struct{}
	for {
		c.space()
		if c.i >= len(c.b) || c.b[c.i] != '"' {
			return c.fail(ErrSyntax)
		}
		at := c.i
		raw, escaped, err := c.str()
		if err != nil {
			return err
		}
		name := raw
		if escaped {
			var unescaped string
			if json.Unmarshal(c.b[at:c.i], &unescaped) != nil {
				return c.fail(ErrSyntax)
			}
			name = []byte(unescaped)
		}
		var dup bool
		names, seen, dup = remember(names, seen, name)
		if dup {
			c.path = append(c.path, step{name: name, index: -1})
			c.i = at
			return c.fail(ErrDuplicateMember)
		}
		c.space()
		if c.i >= len(c.b) || c.b[c.i] != ':' {
			return c.fail(ErrSyntax)
		}
		c.i++
		c.path = append(c.path, step{name: name, index: -1})
		if err := c.value(); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		if done, err := c.next('}'); done || err != nil {
			return err
		}
	}
}

// remember adds name to the names seen in one object and reports whether
// it was there already: a slice while there are at most cap(names), a map
// beyond.
func remember(names [][]byte, seen map[string]struct{}, name []byte) ([][]byte, map[string]struct{}, bool) {
	if seen == nil {
		for _, n := range names {
			if bytes.Equal(n, name) {
				return names, nil, true
			}
		}
		if len(names) < cap(names) {
			return append(names, name), nil, false
		}
		seen = make(map[string]struct{}, 2*len(names))
		for _, n := range names {
			seen[string(n)] = struct{}{}
		}
	}
	if _, ok := seen[string(name)]; ok {
		return names, seen, true
	}
	seen[string(name)] = struct{}{}
	return names, seen, false
}

// str walks a string starting at its opening quote and returns its raw
// content (between the quotes) and whether it holds escapes.
func (c *checker) str() (raw []byte, escaped bool, err error) {
	c.i++ // "
	start := c.i
	for c.i < len(c.b) {
		ch := c.b[c.i]
		switch {
		case ch == '"':
			raw = c.b[start:c.i]
			c.i++
			return raw, escaped, nil
		case ch == '\\':
			escaped = true
			if err := c.escape(); err != nil {
				return nil, false, err
			}
		case ch < 0x20:
			return nil, false, c.fail(ErrSyntax)
		case ch < utf8.RuneSelf:
			c.i++
		default:
			r, size := utf8.DecodeRune(c.b[c.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, c.fail(ErrInvalidUTF8)
			}
			c.i += size
		}
	}
	return nil, false, c.fail(ErrSyntax)
}

// escape walks one escape sequence starting at its backslash.
func (c *checker) escape() error {
	if c.i+1 >= len(c.b) {
		return c.fail(ErrSyntax)
	}
	if c.b[c.i+1] != 'u' {
		c.i += 2
		return nil
	}
	r, ok := hex4(c.b, c.i+2)
	if !ok {
		return c.fail(ErrSyntax)
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return c.fail(ErrLoneSurrogate)
	case r >= 0xD800 && r <= 0xDBFF:
		low, ok := hex4(c.b, c.i+8)
		if !ok || c.b[c.i+6] != '\\' || c.b[c.i+7] != 'u' || low < 0xDC00 || low > 0xDFFF {
			return c.fail(ErrLoneSurrogate)
		}
		c.i += 12
	default:
		c.i += 6
	}
	return nil
}

// hex4 decodes the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, ch := range b[i : i+4] {
		var d byte
		switch {
		case ch >= '0' && ch <= '9':
			d = ch - '0'
		case ch >= 'a' && ch <= 'f':
			d = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
