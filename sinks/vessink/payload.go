package vessink

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/pipeline"
)

// Bounds on what an event's data contributes, so that every VES event
// stays far below the collector's 2 MB limit whatever the data holds.
const (
	// maxFields bounds the entries of an additional-fields map; the
	// entries past it (in name order) are counted in "sluice.truncated".
	maxFields = 64
	// maxFieldName and maxFieldValue bound one entry, in bytes; longer
	// text is cut at a character boundary and ends with "…".
	maxFieldName  = 128
	maxFieldValue = 1024
	// maxObjectBytes bounds the JSON object the other domain carries
	// whole (jsonObjects); a larger one is left out and noted.
	maxObjectBytes = 64 << 10
)

// payload is an event's data as the mapping reads it. Data that is a JSON
// object gives named values; any other data is kept as one "data" (or
// "dataBase64") entry. Parsing never fails: bad data is carried as text.
type payload struct {
	// values are the top-level members of a JSON object, by name.
	values map[string]json.RawMessage
	// object is the compacted JSON object, when the data is one.
	object []byte
	// extra holds the entry for data that is not a JSON object.
	extra []field
}

// parsePayload reads e.Data.
func parsePayload(e *pipeline.Event) payload {
	var p payload
	if len(e.Data) == 0 {
		return p
	}
	// JSON text is UTF-8 (RFC 8259): data with invalid UTF-8 is sent as
	// bytes (dataBase64), never embedded, so that bodies stay valid JSON.
	if pipeline.IsJSONContentType(e.DataContentType) && utf8.Valid(e.Data) {
		data := bytes.TrimSpace(e.Data)
		if len(data) > 0 && data[0] == '{' {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err == nil {
				p.values = m
				var buf bytes.Buffer
				if json.Compact(&buf, data) == nil {
					p.object = buf.Bytes()
				}
				return p
			}
		} else if json.Valid(data) {
			var buf bytes.Buffer
			_ = json.Compact(&buf, data) // valid, so it compacts
			p.extra = []field{{Name: "data", Value: truncate(buf.String(), maxFieldValue)}}
			return p
		}
	}
	if utf8.Valid(e.Data) && textContentType(e.DataContentType) {
		p.extra = []field{{Name: "data", Value: truncate(string(e.Data), maxFieldValue)}}
		return p
	}
	// Base64 of at most maxFieldValue characters: 3 bytes per 4 characters.
	raw := e.Data
	cut := len(raw) > maxFieldValue/4*3
	if cut {
		raw = raw[:maxFieldValue/4*3-3]
	}
	v := base64.StdEncoding.EncodeToString(raw)
	if cut {
		v += "…"
	}
	p.extra = []field{{Name: "dataBase64", Value: v}}
	return p
}

// str returns the first of keys whose value is a non-empty string, a
// number or a boolean, as text.
func (p *payload) str(keys ...string) string {
	for _, k := range keys {
		raw, ok := p.values[k]
		if !ok {
			continue
		}
		if s, ok := scalarText(raw); ok && s != "" {
			return s
		}
	}
	return ""
}

// boolean reports whether key holds true (or the string "true").
func (p *payload) boolean(key string) bool {
	raw, ok := p.values[key]
	if !ok {
		return false
	}
	s, _ := scalarText(raw)
	return strings.EqualFold(s, "true")
}

// time returns key as an RFC 3339 time; zero when absent or invalid.
func (p *payload) time(key string) time.Time {
	s := p.str(key)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// duration returns key as a Go duration ("1m0s") or a number of seconds;
// zero when absent, invalid or not positive.
func (p *payload) duration(key string) time.Duration {
	s := p.str(key)
	if s == "" {
		return 0
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < maxHeartbeatInterval.Seconds()*10 {
		return time.Duration(f * float64(time.Second))
	}
	return 0
}

// fields returns the data's entries plus ident, sorted by name. Ident
// entries always stay and win over data entries of the same name; the
// data entries are bounded so that the total is at most maxFields, the
// last one then counting those left out ("sluice.truncated"). Scalars
// are their text; objects and arrays are their compact JSON.
func (p *payload) fields(ident []field) []field {
	data := make([]field, 0, len(p.values)+len(p.extra))
	for k, raw := range p.values {
		v, ok := scalarText(raw)
		if !ok {
			if string(bytes.TrimSpace(raw)) == "null" {
				continue
			}
			var buf bytes.Buffer
			if json.Compact(&buf, raw) != nil {
				continue // unreachable: the object parsed
			}
			v = buf.String()
		}
		data = append(data, field{Name: truncate(k, maxFieldName), Value: truncate(v, maxFieldValue)})
	}
	data = append(data, p.extra...)
	data = slices.DeleteFunc(data, func(f field) bool {
		return slices.ContainsFunc(ident, func(i field) bool { return i.Name == f.Name })
	})
	byName := func(a, b field) int { return strings.Compare(a.Name, b.Name) }
	slices.SortStableFunc(data, byName)
	// Names cut to maxFieldName may collide; keep the first.
	data = slices.CompactFunc(data, func(a, b field) bool { return a.Name == b.Name })
	if room := maxFields - len(ident) - 1; len(data) > room+1 {
		dropped := len(data) - room
		data = append(data[:room], field{Name: "sluice.truncated", Value: strconv.Itoa(dropped) + " more fields left out"})
	}
	data = append(data, ident...)
	slices.SortStableFunc(data, byName)
	return slices.CompactFunc(data, func(a, b field) bool { return a.Name == b.Name })
}

// scalarText returns a JSON string's value, or the text of a number or
// boolean; ok is false for objects, arrays and null.
func scalarText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), true
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[', 'n':
		return "", false
	}
	return string(raw), true
}

// truncate cuts s to at most n bytes at a character boundary, ending
// with "…" when cut. Invalid UTF-8 is left for the JSON writer to replace.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func textContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || pipeline.IsJSONContentType(ct) || strings.HasSuffix(mt, "+xml") || mt == "application/xml"
}
