package kvpsink

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
)

// Extension attributes that override the default mapping. Routes set them
// with a transform, e.g.
//
//	transform:
//	  set:
//	    kvptype: diagnostic
//	    kvpname: 'probe/{{ .Subject }}'
//	    kvpresult: '{{ if eq .Severity "error" }}FAIL{{ else }}SUCCESS{{ end }}'
const (
	// AttrType overrides the KVP type (default: the event's type).
	AttrType = "kvptype"
	// AttrName overrides the KVP name (default: ORIGIN or ORIGIN/SUBJECT).
	AttrName = "kvpname"
	// AttrResult sets the KVP result; without it the field is left out.
	AttrResult = "kvpresult"
	// AttrMsg overrides the KVP message (default: the event's data).
	AttrMsg = "kvpmsg"
)

// ReportOf maps a Sluice event to the KVP event the sink writes:
//
//	type    the kvptype attribute, else the event's type ("sluice.probe.state")
//	name    the kvpname attribute, else the event's origin (the Sluice source's
//	        name, or its CloudEvents source when there is none), followed by
//	        "/" and the subject when there is one ("web/http://127.0.0.1/healthz")
//	result  the kvpresult attribute; left out when absent or empty
//	msg     the kvpmsg attribute (even empty), else the event's data as text
//	        when it is UTF-8 (JSON data as its compact JSON text), else
//	        {"encoding":"base64","data":"…"}, like cloud-init's compressed
//	        events; "" without data
//	ts      the event's time (even the zero instant 0001-01-01T00:00:00Z
//	        when the producer gave it), or now when it has none
//
// The kvp* attributes count only when a route transform set them
// (reserved.SetByTransform): the http source refuses them from clients,
// and one in an event from elsewhere (an old journal) is ignored, so no
// producer can write a PROVISIONING_REPORT of its choosing.
func ReportOf(e *pipeline.Event, now time.Time) Report {
	attr := func(name string) (string, bool) {
		if !reserved.SetByTransform(e, name) {
			return "", false
		}
		v, ok := e.Extensions[name]
		return v, ok
	}
	result, _ := attr(AttrResult)
	r := Report{Time: e.Time, Result: result}
	if r.Time.IsZero() && !e.TimeGiven {
		r.Time = now
	}
	if t, _ := attr(AttrType); t != "" {
		r.Type = t
	} else {
		r.Type = e.Type
	}
	if n, _ := attr(AttrName); n != "" {
		r.Name = n
	} else {
		r.Name = e.Origin
		if r.Name == "" {
			r.Name = e.Source
		}
		if e.Subject != "" {
			r.Name += "/" + e.Subject
		}
	}
	if m, ok := attr(AttrMsg); ok {
		r.Msg = m
	} else if utf8.Valid(e.Data) {
		r.Msg = dataText(e)
	} else {
		r.Msg = `{"encoding":"base64","data":"` + base64.StdEncoding.EncodeToString(e.Data) + `"}`
	}
	return r
}

// dataText is UTF-8 data as the message text: compacted when the content
// type is JSON and the data is valid JSON (what cloud-init's handler
// writes for a dict), as is otherwise.
func dataText(e *pipeline.Event) string {
	if len(e.Data) == 0 || !pipeline.IsJSONContentType(e.DataContentType) {
		return string(e.Data)
	}
	var b bytes.Buffer
	b.Grow(len(e.Data))
	if err := json.Compact(&b, e.Data); err != nil {
		return string(e.Data) // not JSON after all: the text as it came
	}
	return b.String()
}

// DeliveryID is the key's uuid field for a delivery: its idempotency key
// (32 hex digits) written 8-4-4-4-12, so that a retried or replayed event
// gets the same key and consumers can drop the repeat. A key of another
// shape is hashed (SHA-256, first 16 bytes).
func DeliveryID(d *pipeline.Delivery) [16]byte {
	var id [16]byte
	if len(d.Key) == 32 {
		if _, err := hex.Decode(id[:], []byte(d.Key)); err == nil {
			return id
		}
	}
	key := d.Key
	if key == "" {
		key = d.Event.Source + "\x00" + d.Event.ID
	}
	sum := sha256.Sum256([]byte(key))
	copy(id[:], sum[:16])
	return id
}
