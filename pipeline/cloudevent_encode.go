package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendCloudEventJSON appends e in the CloudEvents JSON structured format
// to dst. The output is byte-identical to encoding/json marshaling a map of
// the attributes (keys sorted, HTML-safe escaping, compacted data) but
// costs a fraction of the allocations, since every sink and export writes
// it per event.
func AppendCloudEventJSON(dst []byte, e *Event) []byte {
	var fixed [13]attr
	attrs := fixed[:0]
	add := func(k, v string, kind attrKind) { attrs = append(attrs, attr{k, v, kind}) }
	add("specversion", CloudEventsSpecVersion, attrString)
	add("id", e.ID, attrString)
	add("source", e.Source, attrString)
	add("type", e.Type, attrString)
	if e.Subject != "" {
		add("subject", e.Subject, attrString)
	}
	if !e.Time.IsZero() {
		add("time", "", attrTime)
	}
	if e.DataContentType != "" {
		add("datacontenttype", e.DataContentType, attrString)
	}
	if e.DataSchema != "" {
		add("dataschema", e.DataSchema, attrString)
	}
	if e.Severity != SeverityInfo {
		add("severity", e.Severity.String(), attrString)
	}
	if e.Sequence != 0 {
		add("sequence", "", attrSequence)
	}
	if e.TraceParent != "" {
		add("traceparent", e.TraceParent, attrString)
	}
	if len(e.Data) > 0 {
		if isJSONContentType(e.DataContentType) && json.Valid(e.Data) {
			add("data", "", attrJSONData)
		} else {
			add("data_base64", "", attrBase64Data)
		}
	}
	for k, v := range e.Extensions {
		if !slices.ContainsFunc(attrs, func(a attr) bool { return a.key == k }) {
			attrs = append(attrs, attr{k, v, attrString})
		}
	}
	slices.SortFunc(attrs, func(a, b attr) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
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
			dst = appendCompactHTMLSafe(dst, e.Data)
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
