package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
)

// IdempotencyKey derives the delivery key for an event and a sink: the
// first 16 bytes of SHA-256(source, 0, id, 0, sink), hex-encoded. It depends
// only on its inputs, so retries, restarts and replays produce the same key.
// It allocates only the returned string when the inputs total at most
// idempotencyScratch bytes (the runner derives one key per delivery).
func IdempotencyKey(source, eventID, sink string) string {
	var scratch [idempotencyScratch]byte
	in := append(scratch[:0], source...)
	in = append(in, 0)
	in = append(in, eventID...)
	in = append(in, 0)
	in = append(in, sink...)
	sum := sha256.Sum256(in)
	var out [2 * idempotencyKeyBytes]byte
	hex.Encode(out[:], sum[:idempotencyKeyBytes])
	return string(out[:])
}

// idempotencyKeyBytes is how much of the digest a key keeps, and
// idempotencyScratch the input size hashed without a heap buffer.
const (
	idempotencyKeyBytes = 16
	idempotencyScratch  = 256
)
