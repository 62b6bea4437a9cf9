package journal

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

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
