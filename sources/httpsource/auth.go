package httpsource

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// bearer checks "Authorization: Bearer TOKEN" against a configured token.
// It keeps only the token's SHA-256, and compares digests in constant
// time, so neither the token's bytes nor its length leak through timing.
type bearer struct {
	digest [sha256.Size]byte
}

func newBearer(token string) *bearer {
	if token == "" {
		return nil
	}
	return &bearer{digest: sha256.Sum256([]byte(token))}
}

// check returns nil if the request presents the token, else the 401.
func (b *bearer) check(h http.Header) *response {
	if b == nil {
		return nil
	}
	values := h.Values("Authorization")
	if len(values) == 0 {
		r := failure(http.StatusUnauthorized, "missing bearer token").
			withHeader("WWW-Authenticate", `Bearer realm="sluice"`)
		return &r
	}
	scheme, cred, _ := strings.Cut(values[0], " ")
	got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	ok := subtle.ConstantTimeCompare(got[:], b.digest[:]) == 1
	if !ok || len(values) != 1 || !strings.EqualFold(scheme, "Bearer") {
		r := failure(http.StatusUnauthorized, "invalid bearer token").
			withHeader("WWW-Authenticate", `Bearer realm="sluice", error="invalid_token"`)
		return &r
	}
	return nil
}
