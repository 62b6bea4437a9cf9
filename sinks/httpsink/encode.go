package httpsink

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/sluice-dev/sluice/pipeline"
)

// keyExtension is the CloudEvents extension attribute that carries each
// event's idempotency key in the body.
const keyExtension = "idempotencykey"

// encoded holds the CloudEvents JSON of every delivery of one Deliver
// batch, back to back in one buffer. It is built per call and never
// reused: the transport may still read a request body after the response
// has arrived.
type encoded struct {
	buf []byte
	// off[i]:off[i+1] is delivery i's JSON; empty when it failed to encode.
	off []int
	// bad[i] is why delivery i cannot be sent (a permanent error), or nil.
	bad []error
}

// encode encodes each delivery as one CloudEvents JSON object with its
// key in the idempotencykey extension. An invalid event is marked bad, not
// fatal: only that delivery fails.
func encode(batch []pipeline.Delivery) *encoded {
	size := 0
	for i := range batch {
		size += 320 + len(batch[i].Key) + len(batch[i].Event.Data)*4/3
	}
	enc := &encoded{buf: make([]byte, 0, size), off: make([]int, 1, len(batch)+1), bad: make([]error, len(batch))}
	for i := range batch {
		d := &batch[i]
		if err := pipeline.ValidateCloudEvent(&d.Event); err != nil {
			enc.bad[i] = pipeline.Permanent(fmt.Errorf("encode event %q (sequence %d): %w", d.Event.ID, d.Event.Sequence, err))
		} else {
			enc.buf = appendEvent(enc.buf, d)
		}
		enc.off = append(enc.off, len(enc.buf))
	}
	return enc
}

// event returns delivery i's JSON.
func (enc *encoded) event(i int) []byte { return enc.buf[enc.off[i]:enc.off[i+1]:enc.off[i+1]] }

// size returns the length of delivery i's JSON.
func (enc *encoded) size(i int) int { return enc.off[i+1] - enc.off[i] }

// batchBody returns a new JSON array of the given deliveries' events.
func (enc *encoded) batchBody(idx []int) []byte {
	n := 2
	for _, i := range idx {
		n += enc.size(i) + 1
	}
	body := make([]byte, 0, n)
	body = append(body, '[')
	for k, i := range idx {
		if k > 0 {
			body = append(body, ',')
		}
		body = append(body, enc.event(i)...)
	}
	return append(body, ']')
}

// appendEvent appends d's event with the idempotencykey extension set to
// d.Key. The common case splices the attribute in before the closing
// brace instead of copying the extensions map; an event that already has
// the attribute (from an upstream sink) gets it replaced.
func appendEvent(dst []byte, d *pipeline.Delivery) []byte {
	if _, ok := d.Event.Extensions[keyExtension]; ok {
		e := d.Event
		e.Extensions = maps.Clone(e.Extensions)
		e.Extensions[keyExtension] = d.Key
		return pipeline.AppendCloudEventJSON(dst, &e)
	}
	dst = pipeline.AppendCloudEventJSON(dst, &d.Event)
	dst = append(dst[:len(dst)-1], `,"`+keyExtension+`":`...)
	dst = appendJSONString(dst, d.Key)
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string, as encoding/json writes
// it. Keys are hex in practice, which takes the fast path.
func appendJSONString(dst []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// batchKey is the Idempotency-Key of a batch request: the hex-encoded
// first 16 bytes of SHA-256 over the member keys, each followed by a zero
// byte. It depends only on the members and their order.
func batchKey(batch []pipeline.Delivery, idx []int) string {
	h := sha256.New()
	for _, i := range idx {
		h.Write([]byte(batch[i].Key))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// chunks splits the sendable deliveries (not bad) into runs of at most
// maxEvents whose array body is at most maxBytes, in order. A delivery
// too large on its own gets a run of its own.
func (enc *encoded) chunks(maxEvents, maxBytes int) [][]int {
	var out [][]int
	var cur []int
	size := 2 // "[]"
	for i := range enc.bad {
		if enc.bad[i] != nil {
			continue
		}
		add := enc.size(i)
		if len(cur) > 0 {
			add++ // the comma
		}
		if len(cur) > 0 && (len(cur) >= maxEvents || size+add > maxBytes) {
			out = append(out, cur)
			cur, size, add = nil, 2, enc.size(i)
		}
		cur = append(cur, i)
		size += add
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
