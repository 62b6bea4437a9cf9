package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
)

// IdempotencyKey derives the delivery key for an event and a sink: the
// first 16 bytes of SHA-256(source, 0, id, 0, sink), hex-encoded. It depends
// only on its inputs, so retries, restarts and replays produce the same key.
func IdempotencyKey(source, eventID, sink string) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(eventID))
	h.Write([]byte{0})
	h.Write([]byte(sink))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
