package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AppendCloudEventJSON appends e in the CloudEvents JSON structured format
// to dst. The output is byte-identical to encoding/json marshaling a map of
// the attributes (keys sorted, HTML-safe escaping, compacted data) but
// costs a fraction of the allocations, since every sink and export writes
// it per event.
func AppendCloudEventJSON(dst []byte, e *Event) []byte {
	var fixed, exts [13]attr
	var merged [26]attr
	dataAsIs := false // the data is valid, compact and HTML-safe JSON
	dataKind := attrKind(0)
	if len(e.Data) > 0 {
		dataKind = attrBase64Data
		if IsJSONContentType(e.DataContentType) {
			if dataAsIs = validCompactSafe(e.Data); dataAsIs || embeddableJSON(e.Data) {
				dataKind = attrJSONData
			}
		}
	}
	// The attributes are added in key order, so that only the extensions
	// need sorting (and merging in): sorting every attribute of every
	// event was a tenth of a sink's CPU.
	attrs := fixed[:0]
	add := func(k, v string, kind attrKind) { attrs = append(attrs, attr{k, v, kind}) }
	switch dataKind {
	case attrJSONData:
		add("data", "", attrJSONData)
	case attrBase64Data:
		add("data_base64", "", attrBase64Data)
	}
	if e.DataContentType != "" {
		add("datacontenttype", e.DataContentType, attrString)
	}
	if e.DataSchema != "" {
		add("dataschema", e.DataSchema, attrString)
	}
	add("id", e.ID, attrString)
	if e.Sequence != 0 {
		add("sequence", "", attrSequence)
	}
	if e.Severity != SeverityInfo {
		add("severity", e.Severity.String(), attrString)
	}
	add("source", e.Source, attrString)
	add("specversion", CloudEventsSpecVersion, attrString)
	if e.Subject != "" {
		add("subject", e.Subject, attrString)
	}
	if !e.Time.IsZero() || e.TimeGiven {
		add("time", "", attrTime)
	}
	if e.TraceParent != "" {
		add("traceparent", e.TraceParent, attrString)
	}
	add("type", e.Type, attrString)
	if len(e.Extensions) > 0 {
		attrs = mergeExtensions(merged[:0], attrs, exts[:0], e.Extensions)
	}
	dst = append(dst, '{')
	for i, a := range attrs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, a.key)
		dst = append(dst, ':')
		switch a.kind {
		case attrString:
			dst = appendJSONString(dst, a.value)
		case attrTime:
			dst = append(dst, '"')
			dst = e.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
			dst = append(dst, '"')
		case attrSequence:
			dst = append(dst, '"')
			dst = strconv.AppendUint(dst, e.Sequence, 10)
			dst = append(dst, '"')
		case attrJSONData:
			if dataAsIs {
				dst = append(dst, e.Data...)
			} else {
				dst = appendCompactHTMLSafe(dst, e.Data)
			}
		case attrBase64Data:
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, e.Data)
			dst = append(dst, '"')
		}
	}
	return append(dst, '}')
}

type attrKind uint8

const (
	attrString attrKind = iota
	attrTime
	attrSequence
	attrJSONData
	attrBase64Data
)

type attr struct {
	key, value string
	kind       attrKind
}

// mergeExtensions appends to out the attributes of fixed (sorted by key)
// and the extensions, sorted by key; an extension named like an attribute
// of fixed is left out (the attribute wins). buf is scratch space.
func mergeExtensions(out, fixed, buf []attr, ext map[string]string) []attr {
	for k, v := range ext {
		buf = append(buf, attr{k, v, attrString})
	}
	slices.SortFunc(buf, func(a, b attr) int { return strings.Compare(a.key, b.key) })
	i := 0
	for _, x := range buf {
		for i < len(fixed) && fixed[i].key < x.key {
			out = append(out, fixed[i])
			i++
		}
		if i < len(fixed) && fixed[i].key == x.key {
			continue
		}
		out = append(out, x)
	}
	return append(out, fixed[i:]...)
}

// AppendJSONString appends s as a JSON string with encoding/json's
// HTML-safe escaping, as AppendCloudEventJSON writes attribute values.
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }

// AppendJSONData appends b as AppendCloudEventJSON embeds JSON data
// (compacted and HTML-escaped) and reports true, or leaves dst as is and
// reports false when b is not valid JSON or not valid UTF-8 (then the
// data goes out as data_base64, byte for byte).
func AppendJSONData(dst, b []byte) ([]byte, bool) {
	if validCompactSafe(b) {
		return append(dst, b...), true
	}
	if !embeddableJSON(b) {
		return dst, false
	}
	return appendCompactHTMLSafe(dst, b), true
}

// embeddableJSON reports whether b may be embedded as JSON data: valid
// JSON (json.Valid does not check UTF-8 inside strings) and valid UTF-8,
// so that the line written is valid JSON text (RFC 8259 §8.1) even for
// data that came in as bytes.
func embeddableJSON(b []byte) bool { return utf8.Valid(b) && json.Valid(b) }

// appendCompactHTMLSafe appends valid JSON b compacted and HTML-escaped,
// as encoding/json does for a json.RawMessage.
func appendCompactHTMLSafe(dst, b []byte) []byte {
	var compact bytes.Buffer
	compact.Grow(len(b))
	if err := json.Compact(&compact, b); err != nil {
		return append(dst, "null"...) // unreachable: b is valid JSON
	}
	out := bytes.NewBuffer(dst)
	json.HTMLEscape(out, compact.Bytes())
	return out.Bytes()
}

// validCompactSafe reports whether b is valid JSON that json.Compact
// followed by json.HTMLEscape would leave unchanged, in one pass: no
// whitespace outside strings, only ASCII (so no U+2028, U+2029 or invalid
// UTF-8) and none of <, > and &. That is the usual data, which can then be
// embedded as is. False means "not known": json.Valid decides.
func validCompactSafe(b []byte) bool {
	return scanCompactValue(b, 0, 0) == len(b)
}

// maxCompactDepth bounds the nesting validCompactSafe follows (deeper
// data takes the general path).
const maxCompactDepth = 64

// scanCompactValue returns the index after the compact value at b[i], or
// -1.
func scanCompactValue(b []byte, i, depth int) int {
	if i >= len(b) || depth > maxCompactDepth {
		return -1
	}
	switch c := b[i]; {
	case c == '{':
		i++
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i = scanCompactString(b, i); i < 0 || i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = scanCompactValue(b, i+1, depth+1); i < 0 || i >= len(b) {
				return -1
			}
			switch b[i] {
			case ',':
				i++
			case '}':
				return i + 1
			default:
				return -1
			}
		}
	case c == '[':
		i++
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = scanCompactValue(b, i, depth+1); i < 0 || i >= len(b) {
				return -1
			}
			switch b[i] {
			case ',':
				i++
			case ']':
				return i + 1
			default:
				return -1
			}
		}
	case c == '"':
		return scanCompactString(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return scanCompactNumber(b, i)
	}
	return -1
}

func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanCompactString returns the index after the string at b[i] (a quote),
// or -1 when it is invalid or holds a byte HTMLEscape would change.
func scanCompactString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20 || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&':
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// scanCompactNumber returns the index after the JSON number at b[i], or
// -1.
func scanCompactNumber(b []byte, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json
// does with HTML escaping: <, > and & as \u003c \u003e \u0026, U+2028 and
// U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
