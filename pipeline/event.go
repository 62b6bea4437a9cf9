package pipeline

import (
	"time"
)

// Event is the unit that flows through Sluice. Its attribute names follow
// CloudEvents 1.0 (id, source, type, subject, time, datacontenttype,
// dataschema, data) plus three Sluice extensions: severity, sequence (the
// journal position) and traceparent (W3C trace context).
//
// An Event is a value: components must not modify an Event they did not
// create, and must copy Data before retaining it past the call that handed
// it to them.
type Event struct {
	// ID identifies the event within its Source. Sources that leave it empty
	// get a time-ordered UUID (v7) when the event is emitted.
	ID string
	// Source is a URI-reference naming the producer (CloudEvents "source").
	Source string
	// Type is a namespaced type such as "sluice.probe.state".
	Type string
	// Subject optionally names what the event is about.
	Subject string
	// Time is when the occurrence happened. Zero means "when emitted"
	// (the journal stores its append time), unless TimeGiven is set.
	Time time.Time
	// TimeGiven marks a zero Time as given by the producer, the instant
	// 0001-01-01T00:00:00Z, rather than absent. It is set only together
	// with a zero Time; the journal and CloudEvents codecs keep it.
	TimeGiven bool
	// DataContentType is the media type of Data, e.g. "application/json".
	DataContentType string
	// DataSchema optionally points at the schema Data adheres to.
	DataSchema string
	// Data is the payload, opaque to the pipeline.
	Data []byte
	// Severity orders events for routing and for sinks that need a level.
	Severity Severity
	// TraceParent carries W3C trace context across the journal.
	TraceParent string
	// Extensions holds any other CloudEvents extension attributes. Names are
	// lower-case alphanumerics, as CloudEvents requires.
	Extensions map[string]string
	// Origin is the name of the configured Sluice source that emitted the
	// event. The runner sets it on every emit (a source cannot spoof
	// another), and routes select on it (`from`). Unlike Source, which is
	// whatever URI the producer chose, Origin always names a component of
	// this engine's configuration. The journal stores it.
	Origin string
	// Sequence is the journal position, assigned by the journal on append
	// and zero before that. It starts at 1 and never repeats.
	Sequence uint64
}

// Record is an event as stored in the journal, with the integrity data that
// proves its place in the sequence.
type Record struct {
	// Event is the stored event; Event.Sequence equals Seq.
	Event Event
	// Seq is the record's journal position.
	Seq uint64
	// AppendTime is when the journal committed the record.
	AppendTime time.Time
	// Hash is SHA-256(previous record's Hash, this record), the chain link
	// that makes tampering anywhere in the journal detectable.
	Hash [32]byte
	// Size is the encoded size of the record in bytes.
	Size int
	// Deliveries is how many times a ConsumerReader handed the record out
	// to the consumer reading it, this time included (1 the first time);
	// zero from Read.
	Deliveries int
}
