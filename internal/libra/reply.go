package libra

import "bytes"

// Reply field names and values (Libra's controller constants).
const (
	FieldAction   = "hpcs_action"
	FieldResponse = "hpcs_response"
	FieldError    = "hpcs_error"
	FieldLBs      = "loadBalancers"
	FieldToken    = "hpcs_object_store_token"

	// Pass and Fail are the two values of hpcs_response.
	Pass = "PASS"
	Fail = "FAIL"

	// NodeEnabled and NodeDisabled are the values of a node's condition.
	NodeEnabled  = "ENABLED"
	NodeDisabled = "DISABLED"

	// Masked replaces hpcs_object_store_token wherever a message is shown.
	Masked = "*****"
)

// Kind classifies a refusal.
type Kind uint8

const (
	// KindFail is a reply that echoes the request with hpcs_response FAIL.
	KindFail Kind = iota + 1
	// KindBadRequest is Libra's badRequest object, which does not echo the
	// request (faults.BadRequest.to_json).
	KindBadRequest
)

// Refusal is why a message was not accepted, with the reply to send.
type Refusal struct {
	Kind Kind
	// Reason is the hpcs_error or validationErrors.message text; empty for
	// the two FAILs Libra sends without text (no hpcs_action).
	Reason string
	// Reply is the JSON body to send, token masked.
	Reply []byte
}

// Error implements error, so a refusal can be logged and wrapped.
func (r *Refusal) Error() string {
	if r.Reason == "" {
		return "refused"
	}
	return r.Reason
}

// BadRequest returns Libra's validation fault body for text:
// {"badRequest":{"code":"400","message":"Validation fault","details":"The
// object is not valid","validationErrors":{"message":text}}}.
func BadRequest(text string) []byte {
	return Object().Set("badRequest", Object().
		Set("code", String("400")).
		Set("message", String("Validation fault")).
		Set("details", String("The object is not valid")).
		Set("validationErrors", Object().Set("message", String(text)))).Marshal()
}

// FailReply returns msg (which must be an object; it is modified) with
// hpcs_error set to reason when reason is not empty and hpcs_response FAIL,
// token masked, encoded. A nil msg gives a bare FAIL object.
func FailReply(msg *Value, reason string) []byte {
	if !msg.IsObject() {
		msg = Object()
	}
	if reason != "" {
		msg.Set(FieldError, String(reason))
	}
	msg.Set(FieldResponse, String(Fail))
	return Mask(msg).Marshal()
}

// PassReply returns msg (modified) with hpcs_response PASS, token masked,
// encoded.
func PassReply(msg *Value) []byte {
	msg.Set(FieldResponse, String(Pass))
	return Mask(msg).Marshal()
}

// passValue is hpcs_response's PASS, shared by every PassReplyOf: it is
// only encoded, never put in a message.
var passValue = &Value{kind: kindString, text: Pass}

// PassReplyOf returns what PassReply(msg.Shallow()) returns, without
// modifying msg (an object) and in one allocation: msg encoded with
// hpcs_response PASS (in place when msg has it, appended otherwise),
// token masked.
func PassReplyOf(msg *Value) []byte {
	if !msg.IsObject() {
		return PassReply(Object())
	}
	if tok, ok := msg.Get(FieldToken); ok && tok.Str() != Masked {
		return PassReply(msg.Shallow())
	}
	_, present := msg.Get(FieldResponse)
	n := msg.size()
	if !present {
		n += len(`,"":`) + len(FieldResponse) + passValue.size()
	}
	var buf bytes.Buffer
	buf.Grow(n)
	buf.WriteByte('{')
	for i, m := range msg.obj {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(&buf, m.key)
		buf.WriteByte(':')
		if m.key == FieldResponse {
			passValue.encode(&buf)
		} else {
			m.val.encode(&buf)
		}
	}
	if !present {
		if len(msg.obj) > 0 {
			buf.WriteByte(',')
		}
		writeString(&buf, FieldResponse)
		buf.WriteByte(':')
		passValue.encode(&buf)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// Mask replaces a top-level hpcs_object_store_token with "*****" in place
// and returns msg. Libra masked the copy it logged and replied with; Sluice
// masks before anything is logged, journaled or sent.
func Mask(msg *Value) *Value {
	if _, ok := msg.Get(FieldToken); ok {
		msg.Set(FieldToken, String(Masked))
	}
	return msg
}
