package libra

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// scanner is the fast path of parseValue: a recursive-descent JSON parser
// over the bytes, about five times cheaper than encoding/json's token API.
// It accepts exactly what the token path accepts and builds the same
// Value; on anything it does not handle it gives up (ok false) and
// parseValue runs the token path, which also words the errors.
//
// It allocates little: the input is converted to a string once and every
// string and number without escapes is a substring of it (so a decoded
// message keeps its input alive), and Values come from slabs.
type scanner struct {
	data []byte
	src  string // data as a string
	pos  int
	slab []Value
	// members and elems are the open objects' members and arrays'
	// elements, innermost last.
	members []member
	elems   []*Value
}

// slabSize is how many Values a further slab provides; the first is sized
// from the input (firstSlab).
const slabSize = 16

// firstSlab estimates the values of data: one per member (a colon outside
// strings, counted inside them too, so it may overestimate) and a few for
// the root and array elements that are not members.
func firstSlab(data []byte) int { return min(bytes.Count(data, []byte{':'})+4, 1024) }

// alloc returns a zero Value from the slab.
func (s *scanner) alloc(k kind) *Value {
	if len(s.slab) == 0 {
		s.slab = make([]Value, slabSize)
	}
	v := &s.slab[0]
	s.slab = s.slab[1:]
	v.kind = k
	return v
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) (*Value, bool) {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return nil, false
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		if depth >= maxDepth {
			return nil, false
		}
		return s.object(depth + 1)
	case c == '[':
		if depth >= maxDepth {
			return nil, false
		}
		return s.array(depth + 1)
	case c == '"':
		str, ok := s.str()
		if !ok {
			return nil, false
		}
		v := s.alloc(kindString)
		v.text = str
		return v, true
	case c == 't':
		return s.literal("true", kindBool, true)
	case c == 'f':
		return s.literal("false", kindBool, false)
	case c == 'n':
		return s.literal("null", kindNull, false)
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return nil, false
}

func (s *scanner) literal(lit string, k kind, b bool) (*Value, bool) {
	if len(s.data)-s.pos < len(lit) || s.src[s.pos:s.pos+len(lit)] != lit {
		return nil, false
	}
	s.pos += len(lit)
	v := s.alloc(k)
	v.b = b
	return v, true
}

// object reads an object. Its members gather on the scanner's stack and
// are copied into a slice of their exact size at the closing brace (one
// allocation per object); a duplicate key keeps its first position and
// takes the last value, as Value.Set.
func (s *scanner) object(depth int) (*Value, bool) {
	s.pos++ // '{'
	v := s.alloc(kindObject)
	base := len(s.members)
	defer func() { s.members = s.members[:base] }()
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		v.obj = []member{}
		return v, true
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return nil, false
		}
		key, ok := s.str()
		if !ok {
			return nil, false
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, false
		}
		s.pos++
		e, ok := s.value(depth)
		if !ok {
			return nil, false
		}
		s.setMember(base, key, e)
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			v.obj = append(make([]member, 0, len(s.members)-base), s.members[base:]...)
			return v, true
		default:
			return nil, false
		}
	}
}

// setMember sets key among the open object's members s.members[base:].
func (s *scanner) setMember(base int, key string, val *Value) {
	for i := base; i < len(s.members); i++ {
		if s.members[i].key == key {
			s.members[i].val = val
			return
		}
	}
	s.members = append(s.members, member{key: key, val: val})
}

// array reads an array, its elements gathered like an object's members.
func (s *scanner) array(depth int) (*Value, bool) {
	s.pos++ // '['
	v := s.alloc(kindArray)
	base := len(s.elems)
	defer func() { s.elems = s.elems[:base] }()
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		v.arr = []*Value{}
		return v, true
	}
	for {
		e, ok := s.value(depth)
		if !ok {
			return nil, false
		}
		s.elems = append(s.elems, e)
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			v.arr = append(make([]*Value, 0, len(s.elems)-base), s.elems[base:]...)
			return v, true
		default:
			return nil, false
		}
	}
}

// str reads a string; strings with escapes or non-ASCII bytes go through
// encoding/json so that escapes and invalid UTF-8 are handled as there.
func (s *scanner) str() (string, bool) {
	start := s.pos
	s.pos++ // '"'
	simple := true
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			if simple {
				return s.src[start+1 : s.pos-1], true
			}
			raw := s.data[start:s.pos]
			if !utf8.Valid(raw) {
				return "", false
			}
			var out string
			if json.Unmarshal(raw, &out) != nil {
				return "", false
			}
			return out, true
		case c == '\\':
			simple = false
			s.pos += 2
			continue
		case c < 0x20:
			return "", false
		case c >= 0x80:
			simple = false
		}
		s.pos++
	}
	return "", false
}

// number reads a JSON number (RFC 8259 grammar) and keeps its text.
func (s *scanner) number() (*Value, bool) {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if s.pos < len(s.data) && s.data[s.pos] == '0' {
		s.pos++
	} else if digits() == 0 {
		return nil, false
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return nil, false
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	v := s.alloc(kindNumber)
	v.text = s.src[start:s.pos]
	return v, true
}

// scanValue is the fast path: the whole document or nothing.
func scanValue(data []byte) (*Value, bool) {
	var members [16]member
	var elems [8]*Value
	s := scanner{data: data, src: string(data), members: members[:0], elems: elems[:0], slab: make([]Value, firstSlab(data))}
	v, ok := s.value(0)
	if !ok {
		return nil, false
	}
	s.skipSpace()
	return v, s.pos == len(s.data)
}
