package fleet

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-dev/sluice/pipeline"
)

// Header (watermill metadata) names of a fleet message. Nats-Msg-Id is
// the stream's de-duplication key; the Sluice-* headers let a router
// check order and gaps without parsing the body.
const (
	HeaderMsgID    = jetstream.MsgIDHeader
	HeaderAgent    = "Sluice-Agent"
	HeaderSeq      = "Sluice-Seq"
	HeaderPrevHash = "Sluice-Prev-Hash"
	HeaderType     = "Content-Type"
	// ContentType is the body's media type: one journal export line, a
	// CloudEvents JSON object (see the journal package, Export and verify).
	ContentType = "application/cloudevents+json"
)

// Extension attributes of a journal export line (journal/doc.go, Export
// and verify) that a router reads and does not pass on as such.
const (
	lineAppendTime = "appendtime"
	lineChainHash  = "chainhash"
	lineOrigin     = "sluiceorigin"
	lineRecord     = "sluicerecord"
)

// Extension attributes a router adds to every event it takes from the
// stream, so that routes can select on them and an auditor can tie a
// router's record to the agent's journal.
const (
	ExtAgent      = "fleetagent"      // the agent id
	ExtSeq        = "fleetseq"        // the agent's journal sequence
	ExtOrigin     = "fleetorigin"     // the agent's source that emitted the event
	ExtChainHash  = "fleetchainhash"  // the agent's chain hash of the record (hex)
	ExtAppendTime = "fleetappendtime" // when the agent's journal committed it (RFC 3339)
)

// ErrMalformed is returned (wrapped) for a message that is not a fleet
// record; retrying cannot fix it.
var ErrMalformed = errors.New("malformed fleet message")

// MsgID returns the Nats-Msg-Id of agent's record seq: "<agent>:<seq>",
// stable across retries and restarts.
func MsgID(agent string, seq uint64) string {
	return agent + ":" + strconv.FormatUint(seq, 10)
}

// Outbound is one journal record on its way to the stream.
type Outbound struct {
	Agent string
	Seq   uint64
	// PrevHash is the chain hash of record Seq-1 (hex), so that any one
	// message links to its predecessor.
	PrevHash string
	// Line is the record's journal export line, without the newline.
	Line []byte
}

// NewMessage returns o as a watermill message: UUID is the Nats-Msg-Id,
// the metadata are the headers, the payload is the export line.
func NewMessage(o Outbound) *message.Message {
	m := message.NewMessage(MsgID(o.Agent, o.Seq), o.Line)
	o.headers(m.Metadata.Set)
	return m
}

// headers calls set with each header of o but Nats-Msg-Id (MsgID), the
// same for NewMessage and Publisher.SendRecords.
func (o Outbound) headers(set func(k, v string)) {
	set(HeaderAgent, o.Agent)
	set(HeaderSeq, strconv.FormatUint(o.Seq, 10))
	set(HeaderType, ContentType)
	if o.PrevHash != "" {
		set(HeaderPrevHash, o.PrevHash)
	}
}

// Inbound is a fleet message as a router reads it.
type Inbound struct {
	Agent string
	Seq   uint64
	// Event is the agent's event with Sequence cleared (the router's
	// journal assigns its own) and the Ext* attributes set.
	Event pipeline.Event
	// ChainHash and PrevHash are the agent's chain links (hex).
	ChainHash, PrevHash string
	// AppendTime is when the agent's journal committed the record.
	AppendTime time.Time
}

// ParseMessage decodes a fleet message. Its headers and body must agree
// (agent, sequence, id); anything else is ErrMalformed.
func ParseMessage(m *message.Message) (Inbound, error) {
	var in Inbound
	in.Agent = m.Metadata.Get(HeaderAgent)
	if err := ValidAgentID(in.Agent); err != nil {
		return in, fmt.Errorf("%w: %s: %w", ErrMalformed, HeaderAgent, err)
	}
	seq, err := strconv.ParseUint(m.Metadata.Get(HeaderSeq), 10, 64)
	if err != nil || seq == 0 {
		return in, fmt.Errorf("%w: %s %q is not a sequence", ErrMalformed, HeaderSeq, m.Metadata.Get(HeaderSeq))
	}
	in.Seq = seq
	if id := m.Metadata.Get(HeaderMsgID); id != "" && id != MsgID(in.Agent, seq) {
		return in, fmt.Errorf("%w: %s %q does not match agent %s sequence %d", ErrMalformed, HeaderMsgID, id, in.Agent, seq)
	}
	ev, err := pipeline.UnmarshalCloudEventJSON(m.Payload)
	if err != nil {
		return in, fmt.Errorf("%w: body: %w", ErrMalformed, err)
	}
	if ev.Sequence != seq {
		return in, fmt.Errorf("%w: body sequence %d, header %d", ErrMalformed, ev.Sequence, seq)
	}
	ext := ev.Extensions
	in.ChainHash, in.PrevHash = ext[lineChainHash], m.Metadata.Get(HeaderPrevHash)
	if len(in.ChainHash) != 64 {
		return in, fmt.Errorf("%w: body has no chainhash", ErrMalformed)
	}
	if in.AppendTime, err = pipeline.ParseTime(ext[lineAppendTime]); err != nil {
		return in, fmt.Errorf("%w: appendtime %q: %w", ErrMalformed, ext[lineAppendTime], err)
	}
	origin := ext[lineOrigin]
	for _, k := range []string{lineAppendTime, lineChainHash, lineOrigin, lineRecord} {
		delete(ext, k)
	}
	ext[ExtAgent] = in.Agent
	ext[ExtSeq] = strconv.FormatUint(seq, 10)
	ext[ExtChainHash] = in.ChainHash
	ext[ExtAppendTime] = in.AppendTime.UTC().Format(time.RFC3339Nano)
	if origin != "" {
		ext[ExtOrigin] = origin
	}
	ev.Sequence = 0
	in.Event = ev
	return in, nil
}
