package libra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxDepth bounds the nesting of a message; Libra's messages are at most
// four levels deep, so anything deeper is refused before it costs stack.
const maxDepth = 32

// kind is the JSON type of a Value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// Value is a JSON value that keeps the order of object members as
// received, so that a reply can echo a request with fields added at the
// end, as Libra's worker did with its Python dict. Numbers keep the text
// they were received with. A Value is not safe for concurrent mutation.
type Value struct {
	kind kind
	b    bool
	text string // the string, or the number's literal
	arr  []*Value
	obj  []member
}

type member struct {
	key string
	val *Value
}

// String returns a JSON string value.
func String(s string) *Value { return &Value{kind: kindString, text: s} }

// Object returns an empty JSON object.
func Object() *Value { return &Value{kind: kindObject} }

// Array returns a JSON array of vals.
func Array(vals ...*Value) *Value { return &Value{kind: kindArray, arr: vals} }

// Int returns a JSON number.
func Int(n int64) *Value { return &Value{kind: kindNumber, text: strconv.FormatInt(n, 10)} }

// Get returns the member key of an object (case-sensitive, as Libra's
// field names are) and whether it is present. Get on a non-object reports
// false.
func (v *Value) Get(key string) (*Value, bool) {
	if v == nil || v.kind != kindObject {
		return nil, false
	}
	for _, m := range v.obj {
		if m.key == key {
			return m.val, true
		}
	}
	return nil, false
}

// Set sets member key of an object: in place when present (a Python dict
// keeps the position of a reassigned key), appended otherwise. It returns
// v for chaining; on a non-object it does nothing.
func (v *Value) Set(key string, val *Value) *Value {
	if v == nil || v.kind != kindObject {
		return v
	}
	for i := range v.obj {
		if v.obj[i].key == key {
			v.obj[i].val = val
			return v
		}
	}
	v.obj = append(v.obj, member{key: key, val: val})
	return v
}

// Keys returns the member names of an object in order.
func (v *Value) Keys() []string {
	if v == nil || v.kind != kindObject {
		return nil
	}
	keys := make([]string, len(v.obj))
	for i, m := range v.obj {
		keys[i] = m.key
	}
	return keys
}

// Items returns the elements of an array, nil for anything else.
func (v *Value) Items() []*Value {
	if v == nil || v.kind != kindArray {
		return nil
	}
	return v.arr
}

// IsObject reports whether v is a JSON object.
func (v *Value) IsObject() bool { return v != nil && v.kind == kindObject }

// IsArray reports whether v is a JSON array.
func (v *Value) IsArray() bool { return v != nil && v.kind == kindArray }

// IsString reports whether v is a JSON string.
func (v *Value) IsString() bool { return v != nil && v.kind == kindString }

// IsNull reports whether v is JSON null (or absent).
func (v *Value) IsNull() bool { return v == nil || v.kind == kindNull }

// IsNumber reports whether v is a JSON number.
func (v *Value) IsNumber() bool { return v != nil && v.kind == kindNumber }

// IsBool reports whether v is a JSON boolean.
func (v *Value) IsBool() bool { return v != nil && v.kind == kindBool }

// Str returns the string of a string value, "" for anything else.
func (v *Value) Str() string {
	if v == nil || v.kind != kindString {
		return ""
	}
	return v.text
}

// Bool returns the boolean of a boolean value, false for anything else.
func (v *Value) Bool() bool { return v != nil && v.kind == kindBool && v.b }

// Literal returns the text of a string or number value as received.
func (v *Value) Literal() string {
	if v == nil {
		return ""
	}
	switch v.kind {
	case kindString, kindNumber:
		return v.text
	case kindBool:
		return strconv.FormatBool(v.b)
	case kindNull:
		return "null"
	default:
		return string(v.Marshal())
	}
}

// Shallow returns a copy of v whose own members (or elements) can be Set
// without changing v; the member values themselves are shared, so only
// the copy's top level may be changed. Building a reply from a request
// (PassReply, FailReply: top-level fields added) needs no more, at a
// fraction of Clone's allocations.
func (v *Value) Shallow() *Value {
	if v == nil {
		return nil
	}
	c := *v
	c.arr = append([]*Value(nil), v.arr...)
	c.obj = append([]member(nil), v.obj...)
	return &c
}

// Clone returns a deep copy of v.
func (v *Value) Clone() *Value {
	if v == nil {
		return nil
	}
	c := &Value{kind: v.kind, b: v.b, text: v.text}
	if v.arr != nil {
		c.arr = make([]*Value, len(v.arr))
		for i, e := range v.arr {
			c.arr[i] = e.Clone()
		}
	}
	if v.obj != nil {
		c.obj = make([]member, len(v.obj))
		for i, m := range v.obj {
			c.obj[i] = member{key: m.key, val: m.val.Clone()}
		}
	}
	return c
}

// Marshal encodes v as compact JSON, members in order, without HTML
// escaping.
func (v *Value) Marshal() []byte {
	var buf bytes.Buffer
	buf.Grow(v.size())
	v.encode(&buf)
	return buf.Bytes()
}

// size is the length of v's encoding when its strings need no escapes,
// so that Marshal allocates once.
func (v *Value) size() int {
	if v == nil {
		return len("null")
	}
	switch v.kind {
	case kindNull:
		return len("null")
	case kindBool:
		if v.b {
			return len("true")
		}
		return len("false")
	case kindNumber:
		return len(v.text)
	case kindString:
		return len(v.text) + 2
	case kindArray:
		n := 2 + max(len(v.arr)-1, 0)
		for _, e := range v.arr {
			n += e.size()
		}
		return n
	default: // object
		n := 2 + max(len(v.obj)-1, 0)
		for _, m := range v.obj {
			n += len(m.key) + 3 + m.val.size()
		}
		return n
	}
}

// MarshalJSON implements json.Marshaler.
func (v *Value) MarshalJSON() ([]byte, error) { return v.Marshal(), nil }

func (v *Value) encode(buf *bytes.Buffer) {
	if v == nil {
		buf.WriteString("null")
		return
	}
	switch v.kind {
	case kindNull:
		buf.WriteString("null")
	case kindBool:
		buf.WriteString(strconv.FormatBool(v.b))
	case kindNumber:
		buf.WriteString(v.text)
	case kindString:
		writeString(buf, v.text)
	case kindArray:
		buf.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				buf.WriteByte(',')
			}
			e.encode(buf)
		}
		buf.WriteByte(']')
	case kindObject:
		buf.WriteByte('{')
		for i, m := range v.obj {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, m.key)
			buf.WriteByte(':')
			m.val.encode(buf)
		}
		buf.WriteByte('}')
	}
}

func writeString(buf *bytes.Buffer, s string) {
	if plain(s) {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

// errSyntax wraps every parse failure.
var errSyntax = errors.New("malformed JSON")

// parseValue decodes one JSON document into a Value. Duplicate object keys
// keep the first position and the last value, as Python's json.loads does.
func parseValue(data []byte) (*Value, error) {
	if v, ok := scanValue(data); ok {
		return v, nil
	}
	return tokenParse(data)
}

// tokenParse is parseValue with encoding/json's token API: the reference
// the fast scanner must agree with, and the path that words errors.
func tokenParse(data []byte) (*Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the top-level value", errSyntax)
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (*Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	switch t := tok.(type) {
	case nil:
		return &Value{kind: kindNull}, nil
	case bool:
		return &Value{kind: kindBool, b: t}, nil
	case json.Number:
		return &Value{kind: kindNumber, text: t.String()}, nil
	case string:
		return String(t), nil
	case json.Delim:
		if depth >= maxDepth {
			return nil, fmt.Errorf("%w: nested deeper than %d levels", errSyntax, maxDepth)
		}
		if t == '[' {
			return decodeArray(dec, depth+1)
		}
		if t == '{' {
			return decodeObject(dec, depth+1)
		}
	}
	return nil, fmt.Errorf("%w: unexpected %v", errSyntax, tok)
}

func decodeArray(dec *json.Decoder, depth int) (*Value, error) {
	v := &Value{kind: kindArray, arr: []*Value{}}
	for dec.More() {
		e, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		v.arr = append(v.arr, e)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, syntaxError(err)
	}
	return v, nil
}

func decodeObject(dec *json.Decoder, depth int) (*Value, error) {
	v := &Value{kind: kindObject, obj: []member{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: object key is not a string", errSyntax)
		}
		e, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		v.Set(key, e)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, syntaxError(err)
	}
	return v, nil
}

// syntaxError wraps a decoder error, naming a truncated document plainly.
func syntaxError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: unexpected end of input", errSyntax)
	}
	return fmt.Errorf("%w: %w", errSyntax, err)
}

// plain reports whether s encodes as itself between quotes: printable
// ASCII without '"' or '\\'.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
