package httpserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// Errors of Authorize, each answered 401 with the WWW-Authenticate value
// Challenge returns.
var (
	ErrMissingToken = errors.New("missing bearer token")
	ErrInvalidToken = errors.New("invalid bearer token")
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

// check returns nil if h presents the token (or none is configured),
// ErrMissingToken or ErrInvalidToken.
func (b *bearer) check(h http.Header) error {
	if b == nil {
		return nil
	}
	values := h.Values("Authorization")
	if len(values) == 0 {
		return ErrMissingToken
	}
	scheme, cred, _ := strings.Cut(values[0], " ")
	got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	ok := subtle.ConstantTimeCompare(got[:], b.digest[:]) == 1
	if !ok || len(values) != 1 || !strings.EqualFold(scheme, "Bearer") {
		return ErrInvalidToken
	}
	return nil
}

// Challenge returns the WWW-Authenticate value of a 401 answering err
// (RFC 6750 §3).
func Challenge(err error) string {
	if errors.Is(err, ErrInvalidToken) {
		return `Bearer realm="sluice", error="invalid_token"`
	}
	return `Bearer realm="sluice"`
}

// TokenCheck returns a check of "Authorization: Bearer TOKEN" against
// token, compared in constant time as Server.Authorize does: it returns
// nil, ErrMissingToken or ErrInvalidToken (answer 401 with
// WWW-Authenticate: Challenge(err)). An empty token accepts everything.
func TokenCheck(token string) func(h http.Header) error { return newBearer(token).check }
