package stdoutsink

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/pipeline"
)

// maxTextData bounds the bytes of an event's data the text line shows;
// longer data is cut at a character boundary and followed by "…" and its
// full size.
const maxTextData = 256

// appendTextData appends the data of e as the text line's last column:
// JSON data (by pipeline.IsJSONContentType) compacted onto the line, text
// and JSON that does not parse quoted as a Go string (invalid UTF-8 as
// \x escapes), and anything else as <N bytes TYPE>. Characters that could
// break or disguise the line (control and format characters, invalid
// UTF-8) are never written raw: JSON holding any is quoted too.
func appendTextData(buf []byte, e *pipeline.Event) []byte {
	data := e.Data
	if pipeline.IsJSONContentType(e.DataContentType) && utf8.Valid(data) && json.Valid(data) {
		var compact bytes.Buffer
		compact.Grow(min(len(data), maxTextData*2))
		if json.Compact(&compact, data) == nil {
			return appendBounded(buf, compact.Bytes(), !bytes.ContainsFunc(compact.Bytes(), unsafeInJSON))
		}
	}
	if isText(e.DataContentType) || pipeline.IsJSONContentType(e.DataContentType) {
		return appendBounded(buf, data, false)
	}
	buf = append(buf, '<')
	buf = strconv.AppendInt(buf, int64(len(data)), 10)
	buf = append(buf, " bytes"...)
	if e.DataContentType != "" {
		buf = append(buf, ' ')
		buf = appendValue(buf, e.DataContentType)
	}
	return append(buf, '>')
}

// appendBounded appends at most maxTextData bytes of b, raw or quoted as
// a Go string, then "…(N bytes)" if b was cut.
func appendBounded(buf, b []byte, raw bool) []byte {
	shown := b
	if len(b) > maxTextData {
		cut := maxTextData
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		shown = b[:cut]
	}
	if raw {
		buf = append(buf, shown...)
	} else {
		buf = strconv.AppendQuote(buf, string(shown))
	}
	if len(shown) < len(b) {
		buf = append(buf, "…("...)
		buf = strconv.AppendInt(buf, int64(len(b)), 10)
		buf = append(buf, " bytes)"...)
	}
	return buf
}

// unsafeInJSON reports the runes compact JSON may hold raw that must not
// reach a terminal raw: anything unprintable but the plain space.
func unsafeInJSON(r rune) bool {
	return r != ' ' && (r == unicode.ReplacementChar || !unicode.IsPrint(r))
}

// isText reports whether data of content type ct is text worth showing:
// text/* and the common textual application types.
func isText(ct string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	return strings.HasPrefix(mt, "text/") || mt == "application/xml" || strings.HasSuffix(mt, "+xml") ||
		mt == "application/x-www-form-urlencoded" || mt == "application/yaml"
}
