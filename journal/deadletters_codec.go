package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// checkDeadLetterSink rejects sink names the key layout cannot hold.
func checkDeadLetterSink(sink string) error {
	if sink == "" || len(sink) > 1024 || bytes.IndexByte([]byte(sink), 0) >= 0 {
		return fmt.Errorf("invalid sink name %q", sink)
	}
	return nil
}

func deadLetterKey(sink string, seq uint64) []byte {
	k := make([]byte, 0, len(sink)+9)
	k = append(k, sink...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// storedLetter is the stored form of a pipeline.DeadLetter; Sink and Seq
// are the key. Event is the journal's binary event encoding
// (MarshalEvent), base64 in the JSON.
type storedLetter struct {
	V                int       `json:"v"`
	Route            string    `json:"route,omitempty"`
	Event            []byte    `json:"event"`
	Key              string    `json:"key,omitempty"`
	Reason           string    `json:"reason"`
	Attempts         int       `json:"attempts"`
	FirstError       string    `json:"first_error,omitempty"`
	LastError        string    `json:"last_error,omitempty"`
	FirstAt          time.Time `json:"first_at"`
	LastAt           time.Time `json:"last_at"`
	Redrives         int       `json:"redrives,omitempty"`
	RedriveRequested bool      `json:"redrive_requested,omitempty"`
}

func encodeDeadLetter(l *pipeline.DeadLetter) ([]byte, error) {
	return json.Marshal(storedLetter{
		V: deadLetterVersion, Route: l.Route, Event: MarshalEvent(nil, &l.Event), Key: l.Key,
		Reason: l.Reason, Attempts: l.Attempts, FirstError: l.FirstError, LastError: l.LastError,
		FirstAt: l.FirstAt, LastAt: l.LastAt, Redrives: l.Redrives, RedriveRequested: l.RedriveRequested,
	})
}

// decodeDeadLetter decodes a stored letter; the result shares nothing with
// k and v.
func decodeDeadLetter(k, v []byte) (pipeline.DeadLetter, error) {
	bad := func(reason string, err error) (pipeline.DeadLetter, error) {
		return pipeline.DeadLetter{}, &CorruptionError{Segment: deadLettersFileName, Reason: reason, Err: err}
	}
	if len(k) < 10 || k[len(k)-9] != 0 {
		return bad(fmt.Sprintf("malformed dead-letter key %q", k), nil)
	}
	sink, seq := string(k[:len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:])
	var s storedLetter
	if err := json.Unmarshal(v, &s); err != nil {
		return bad(fmt.Sprintf("dead letter %s/%d", sink, seq), err)
	}
	if s.V != deadLetterVersion {
		return bad(fmt.Sprintf("dead letter %s/%d: unknown version %d", sink, seq, s.V), nil)
	}
	ev, err := UnmarshalEvent(s.Event)
	if err != nil {
		return bad(fmt.Sprintf("dead letter %s/%d: event", sink, seq), err)
	}
	ev.Sequence = seq
	return pipeline.DeadLetter{
		Sink: sink, Route: s.Route, Seq: seq, Event: ev, Key: s.Key, Reason: s.Reason, Attempts: s.Attempts,
		FirstError: s.FirstError, LastError: s.LastError, FirstAt: s.FirstAt, LastAt: s.LastAt,
		Redrives: s.Redrives, RedriveRequested: s.RedriveRequested,
	}, nil
}

// MarshalDeadLetter encodes l the way this journal stores it, without its
// identity (Sink, Seq), which a store keeps in its key: for dead-letter
// stores beside other backends (natsjournal's, in JetStream), so that a
// letter reads the same wherever it is kept.
func MarshalDeadLetter(l *pipeline.DeadLetter) ([]byte, error) { return encodeDeadLetter(l) }

// UnmarshalDeadLetter decodes what MarshalDeadLetter encoded, as the letter
// of sink and seq. A value it cannot read is a *CorruptionError.
func UnmarshalDeadLetter(sink string, seq uint64, v []byte) (pipeline.DeadLetter, error) {
	if err := checkDeadLetterSink(sink); err != nil {
		return pipeline.DeadLetter{}, err
	}
	return decodeDeadLetter(deadLetterKey(sink, seq), v)
}
