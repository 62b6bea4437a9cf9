package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// fingerprint identifies a decoded setting as written (after
// interpolation) for pipeline.RouteSpec.Fingerprint and
// SinkSpec.Fingerprint: equal settings give equal fingerprints, whatever
// their position in the file.
func fingerprint(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Every setting fingerprinted is plain data; a failure only makes
		// the component count as changed at the next reload.
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
