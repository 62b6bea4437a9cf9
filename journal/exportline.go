package journal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/sluice-dev/sluice/pipeline"
)

// Extension attributes an export line adds to each event (see doc.go,
// Export and verify).
const (
	extAppendTime = "appendtime"
	extChainHash  = "chainhash"
	extOrigin     = "sluiceorigin"
	extRecord     = "sluicerecord"
)

// linePrefix opens every event line: the attributes export writes first,
// in this order, so that VerifyExport finds them without parsing.
const (
	linePrefix     = `{"specversion":"` + pipeline.CloudEventsSpecVersion + `","sequence":"`
	lineAppendTime = `","appendtime":"`
	lineChainHash  = `","chainhash":"`
	lineRecord     = `,"sluicerecord":"`
)

// lineRenderer renders export lines; one per goroutine, reused.
type lineRenderer struct {
	ev      exportEvent
	scratch []byte // decoded payloads (verification)
	out     []byte // re-rendered lines (verification)
}

// extAttr is an extension attribute of a decoded event.
type extAttr struct{ key, value string }

// exportEvent is an event decoded for export: strings and data alias the
// payload, extensions are a reused slice sorted by key (no map).
type exportEvent struct {
	id, source, typ, subject string
	time                     time.Time
	timeGiven                bool // time is the zero instant, not absent
	contentType, schema      string
	severity                 pipeline.Severity
	traceParent, origin      string
	ext                      []extAttr
	data                     []byte
}

// decodeExportEvent decodes an event payload as decodeEvent does (same
// checks, same errors) into e, without allocating in steady state.
func decodeExportEvent(b []byte, e *exportEvent) error {
	d := decoder{b: b}
	if len(b) < 2 {
		return malformed("truncated header")
	}
	if b[0] != eventCodecVersion {
		return malformed("unknown version " + strconv.Itoa(int(b[0])))
	}
	flags := b[1]
	if flags&^flagsDefined != 0 {
		return malformed("unknown flags 0x" + strconv.FormatUint(uint64(flags), 16))
	}
	d.off = 2
	e.id, e.source, e.typ, e.subject = d.string(), d.string(), d.string(), d.string()
	e.time, e.timeGiven = time.Time{}, false
	if flags&flagHasTime != 0 {
		sec := d.varint()
		nsec := d.uvarint()
		if d.err == nil {
			if nsec >= 1e9 {
				return malformed("nanoseconds out of range")
			}
			e.time = time.Unix(sec, int64(nsec)).UTC()
			e.timeGiven = e.time.IsZero()
		}
	}
	e.contentType, e.schema = d.string(), d.string()
	e.severity = pipeline.Severity(int8(d.byte()))
	e.traceParent, e.origin = d.string(), d.string()
	n := d.uvarint()
	e.ext = e.ext[:0]
	if d.err == nil && n > 0 {
		if n > uint64(len(b)-d.off)/2 {
			return malformed("extension count exceeds input")
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			k := d.string()
			v := d.string()
			e.ext = append(e.ext, extAttr{k, v})
		}
	}
	e.data = d.bytes()
	if d.err != nil {
		return d.err
	}
	if d.off != len(b) {
		return malformed(strconv.Itoa(len(b)-d.off) + " trailing bytes")
	}
	if len(e.ext) > 1 {
		slices.SortFunc(e.ext, func(a, b extAttr) int { return strings.Compare(a.key, b.key) })
		for i := 1; i < len(e.ext); i++ {
			if e.ext[i].key == e.ext[i-1].key {
				return malformed("duplicate extension " + e.ext[i].key)
			}
		}
	}
	return nil
}

// appendLine appends the export line of the record (seq, appendTime,
// hash, payload) to dst and a newline. The attributes come in a fixed
// order (documented in doc.go, Export and verify): specversion, sequence,
// appendtime, chainhash, id, source, type, subject, time (the append time
// when the event has none), datacontenttype, dataschema, severity,
// traceparent, sluiceorigin, the event's extensions sorted by key (those
// named like an attribute already written are left out), data or
// data_base64, and sluicerecord (the payload in base64) last. Values are
// escaped and data embedded as pipeline.AppendCloudEventJSON does. The
// line is a pure function of its inputs, which is what lets VerifyExport
// compare it byte for byte.
func (lr *lineRenderer) appendLine(dst []byte, seq uint64, appendTime int64, hash *[32]byte, payload []byte) ([]byte, error) {
	e := &lr.ev
	if err := decodeExportEvent(payload, e); err != nil {
		return dst, err
	}
	dst = append(dst, linePrefix...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, lineAppendTime...)
	at := time.Unix(0, appendTime).UTC()
	dst = at.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, lineChainHash...)
	dst = hex.AppendEncode(dst, hash[:])
	dst = append(dst, `","id":`...)
	dst = pipeline.AppendJSONString(dst, e.id)
	dst = append(dst, `,"source":`...)
	dst = pipeline.AppendJSONString(dst, e.source)
	dst = append(dst, `,"type":`...)
	dst = pipeline.AppendJSONString(dst, e.typ)
	if e.subject != "" {
		dst = append(dst, `,"subject":`...)
		dst = pipeline.AppendJSONString(dst, e.subject)
	}
	dst = append(dst, `,"time":"`...)
	if e.time.IsZero() && !e.timeGiven {
		dst = at.AppendFormat(dst, time.RFC3339Nano)
	} else {
		dst = e.time.AppendFormat(dst, time.RFC3339Nano)
	}
	dst = append(dst, '"')
	if e.contentType != "" {
		dst = append(dst, `,"datacontenttype":`...)
		dst = pipeline.AppendJSONString(dst, e.contentType)
	}
	if e.schema != "" {
		dst = append(dst, `,"dataschema":`...)
		dst = pipeline.AppendJSONString(dst, e.schema)
	}
	if e.severity != pipeline.SeverityInfo {
		dst = append(dst, `,"severity":`...)
		dst = pipeline.AppendJSONString(dst, e.severity.String())
	}
	if e.traceParent != "" {
		dst = append(dst, `,"traceparent":`...)
		dst = pipeline.AppendJSONString(dst, e.traceParent)
	}
	if e.origin != "" {
		dst = append(dst, `,"sluiceorigin":`...)
		dst = pipeline.AppendJSONString(dst, e.origin)
	}
	// Data is decided before the extensions, which must not repeat its
	// attribute's name.
	dataKey := ""
	if len(e.data) > 0 {
		dataKey = "data_base64"
		if pipeline.IsJSONContentType(e.contentType) {
			dataKey = "data"
		}
	}
	for _, x := range e.ext {
		if e.written(x.key, dataKey) {
			continue
		}
		dst = append(dst, ',')
		dst = pipeline.AppendJSONString(dst, x.key)
		dst = append(dst, ':')
		dst = pipeline.AppendJSONString(dst, x.value)
	}
	if dataKey == "data" {
		n := len(dst)
		dst = append(dst, `,"data":`...)
		var ok bool
		if dst, ok = pipeline.AppendJSONData(dst, e.data); !ok {
			// Not valid JSON after all: data_base64, as
			// AppendCloudEventJSON does. An extension named data_base64
			// cannot have been written (written checks both names).
			dst = dst[:n]
			dataKey = "data_base64"
		}
	}
	if dataKey == "data_base64" {
		dst = append(dst, `,"data_base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, e.data)
		dst = append(dst, '"')
	}
	dst = append(dst, lineRecord...)
	dst = base64.StdEncoding.AppendEncode(dst, payload)
	return append(dst, '"', '}', '\n'), nil
}

// written reports whether the line already has (or will have) an
// attribute named k, so that an extension of that name is left out.
// dataKey is "data" when the data may be embedded as JSON: then both data
// names are taken, since invalid JSON falls back to data_base64.
func (e *exportEvent) written(k, dataKey string) bool {
	switch k {
	case "specversion", "sequence", extAppendTime, extChainHash, "id", "source", "type", "time", extRecord, extOrigin:
		// sluiceorigin is always reserved: an extension of that name
		// would pose as the event's origin.
		return true
	case "subject":
		return e.subject != ""
	case "datacontenttype":
		return e.contentType != ""
	case "dataschema":
		return e.schema != ""
	case "severity":
		return e.severity != pipeline.SeverityInfo
	case "traceparent":
		return e.traceParent != ""
	case "data":
		return dataKey == "data"
	case "data_base64":
		return dataKey != ""
	}
	return false
}

// parseLineFast extracts the attributes VerifyExport needs from a line in
// the layout appendLine writes (prefix attributes first, sluicerecord
// last) without walking the JSON; it reports false for anything else,
// and the caller falls back to parseLine. Whatever it extracts is only
// trusted once the line equals its re-rendering.
func parseLineFast(line []byte, scratch []byte) (lineFields, []byte, bool) {
	f, ok := parseLinePrefix(line)
	if !ok {
		return f, scratch, false
	}
	// sluicerecord is last: base64 holds no quote.
	if len(line) < 2 || line[len(line)-1] != '}' || line[len(line)-2] != '"' {
		return f, scratch, false
	}
	body := line[:len(line)-2]
	q := bytes.LastIndexByte(body, '"')
	if q < 0 || !hasSuffix(body[:q+1], lineRecord) {
		return f, scratch, false
	}
	var err error
	scratch, err = base64.StdEncoding.AppendDecode(scratch[:0], body[q+1:])
	if err != nil {
		return f, scratch, false
	}
	f.payload = scratch
	return f, scratch, true
}

// parseLinePrefix reads the sequence, appendtime and chainhash at the
// start of a line in appendLine's layout.
func parseLinePrefix(line []byte) (lineFields, bool) {
	var f lineFields
	rest, ok := cutPrefix(line, linePrefix)
	if !ok {
		return f, false
	}
	i := 0
	for i < len(rest) && i < 20 && rest[i] >= '0' && rest[i] <= '9' {
		f.seq = f.seq*10 + uint64(rest[i]-'0')
		i++
	}
	if i == 0 || i > 19 || f.seq == 0 {
		return f, false
	}
	if rest, ok = cutPrefix(rest[i:], lineAppendTime); !ok {
		return f, false
	}
	q := bytes.IndexByte(rest, '"')
	if q <= 0 {
		return f, false
	}
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(&rest[0], q))
	if err != nil {
		return f, false
	}
	f.appendTime = t.UnixNano()
	if rest, ok = cutPrefix(rest[q:], lineChainHash); !ok || len(rest) < 65 || rest[64] != '"' {
		return f, false
	}
	if _, err := hex.Decode(f.hash[:], rest[:64]); err != nil {
		return f, false
	}
	return f, true
}

func cutPrefix(b []byte, p string) ([]byte, bool) {
	if len(b) < len(p) || string(b[:len(p)]) != p {
		return b, false
	}
	return b[len(p):], true
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

// lineFields are the top-level attributes VerifyExport reads from a line.
type lineFields struct {
	seq        uint64
	appendTime int64
	hash       [32]byte
	payload    []byte
}

var errLineSyntax = errors.New("not a JSON object")

// parseLine extracts the sequence, appendtime, chainhash and sluicerecord
// attributes from an export line, walking only the top level of the JSON
// object (nested data is skipped, so a key inside data cannot be taken
// for an attribute). scratch receives the decoded payload.
func parseLine(line []byte, scratch []byte) (lineFields, []byte, error) {
	var f lineFields
	var seqS, timeS, hashS, recS []byte
	err := topLevelStrings(line, func(key, val []byte) {
		switch string(key) {
		case "sequence":
			seqS = val
		case extAppendTime:
			timeS = val
		case extChainHash:
			hashS = val
		case extRecord:
			recS = val
		}
	})
	if err != nil {
		return f, scratch, err
	}
	switch {
	case seqS == nil:
		return f, scratch, errors.New("no sequence attribute")
	case timeS == nil:
		return f, scratch, errors.New("no appendtime attribute")
	case hashS == nil:
		return f, scratch, errors.New("no chainhash attribute")
	case recS == nil:
		return f, scratch, errors.New("no sluicerecord attribute")
	}
	if f.seq, err = strconv.ParseUint(string(seqS), 10, 64); err != nil || f.seq == 0 {
		return f, scratch, errors.New("bad sequence attribute")
	}
	t, err := time.Parse(time.RFC3339Nano, string(timeS))
	if err != nil {
		return f, scratch, errors.New("bad appendtime attribute")
	}
	f.appendTime = t.UnixNano()
	if len(hashS) != 64 {
		return f, scratch, errors.New("bad chainhash attribute")
	}
	if _, err := hex.Decode(f.hash[:], hashS); err != nil {
		return f, scratch, errors.New("bad chainhash attribute")
	}
	scratch = scratch[:0]
	if scratch, err = base64.StdEncoding.AppendDecode(scratch, recS); err != nil {
		return f, scratch, errors.New("bad sluicerecord attribute")
	}
	f.payload = scratch
	return f, scratch, nil
}

// topLevelMembers calls fn for each top-level member of the JSON object
// in line with its raw key and the member's whole text ("key":value).
func topLevelMembers(line []byte, fn func(key, member []byte)) error {
	return walkTopLevel(line, func(key []byte, start, _, end int) {
		fn(key, line[start:end])
	})
}

// topLevelStrings calls fn for each top-level member of the JSON object
// in line whose value is a string without escapes (the attributes export
// writes never need them), with the raw key and value. Other values are
// skipped. It checks the structure only as far as walking it needs; the
// caller compares the whole line with its re-rendering anyway.
func topLevelStrings(line []byte, fn func(key, val []byte)) error {
	return walkTopLevel(line, func(key []byte, _, valStart, end int) {
		if line[valStart] != '"' {
			return
		}
		if _, plain := scanString(line, valStart); plain {
			fn(key, line[valStart+1:end-1])
		}
	})
}

// walkTopLevel calls fn for each top-level member of the JSON object in
// line with its raw key and the offsets of the member's start (its key's
// opening quote), its value's start and its end.
func walkTopLevel(line []byte, fn func(key []byte, start, valStart, end int)) error {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errLineSyntax
	}
	i++
	for {
		i = skipSpace(line, i)
		if i < len(line) && line[i] == '}' {
			return nil
		}
		if i >= len(line) || line[i] != '"' {
			return errLineSyntax
		}
		start := i
		kEnd, _ := scanString(line, i)
		if kEnd < 0 {
			return errLineSyntax
		}
		key := line[i+1 : kEnd-1]
		i = skipSpace(line, kEnd)
		if i >= len(line) || line[i] != ':' {
			return errLineSyntax
		}
		i = skipSpace(line, i+1)
		if i >= len(line) {
			return errLineSyntax
		}
		var end int
		if line[i] == '"' {
			end, _ = scanString(line, i)
		} else {
			end = skipValue(line, i)
		}
		if end < 0 {
			return errLineSyntax
		}
		fn(key, start, i, end)
		i = skipSpace(line, end)
		if i < len(line) && line[i] == ',' {
			i++
			continue
		}
		if i < len(line) && line[i] == '}' {
			return nil
		}
		return errLineSyntax
	}
}

// scanString returns the index after the string starting at line[i] (a
// quote), or -1, and whether it holds no escape.
func scanString(line []byte, i int) (int, bool) {
	plain := true
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '\\':
			plain = false
			j++
		case '"':
			return j + 1, plain
		}
	}
	return -1, false
}

// skipValue returns the index after the non-string value at line[i]: an
// object or array (brackets counted outside strings) or a literal.
func skipValue(line []byte, i int) int {
	depth := 0
	for j := i; j < len(line); j++ {
		switch c := line[j]; c {
		case '"':
			end, _ := scanString(line, j)
			if end < 0 {
				return -1
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case ',':
			if depth == 0 {
				return j
			}
		}
	}
	if depth == 0 {
		return len(line)
	}
	return -1
}

func skipSpace(line []byte, i int) int {
	for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n') {
		i++
	}
	return i
}
