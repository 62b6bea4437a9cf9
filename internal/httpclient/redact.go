package httpclient

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
)

// redacted replaces a secret in what Redactor cleans.
const redacted = "[REDACTED]"

// minRedacted is the shortest form Redactor looks for: shorter ones
// would blank out ordinary words.
const minRedacted = 4

// Redactor removes a client's own secrets (its Authorization header,
// tokens, passwords, header values) from what a peer answered, before
// it is stored in a dead letter or logged: a peer that echoes the
// request's headers must not put them there. It finds each secret as
// given, in standard, URL and unpadded base64, and, for an
// "Authorization" value of the form "SCHEME CREDENTIALS", the
// credentials alone and what they decode to (the user:password of Basic
// authentication). The zero Redactor (or nil) removes nothing.
type Redactor struct {
	forms [][]byte
	// longest is the length of the longest form.
	longest int
}

// NewRedactor returns a Redactor of secrets (empty ones are ignored).
func NewRedactor(secrets ...pipeline.Secret) *Redactor {
	r := &Redactor{}
	add := func(s string) {
		if len(s) < minRedacted {
			return
		}
		r.forms = append(r.forms, []byte(s))
		r.longest = max(r.longest, len(s))
	}
	for _, sec := range secrets {
		v := sec.Reveal()
		vals := []string{v}
		if scheme, cred, ok := strings.Cut(v, " "); ok && scheme != "" && !strings.Contains(cred, " ") {
			vals = append(vals, cred)
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				vals = append(vals, string(dec))
				if _, pw, ok := strings.Cut(string(dec), ":"); ok {
					vals = append(vals, pw)
				}
			}
		}
		for _, s := range vals {
			add(s)
			add(base64.StdEncoding.EncodeToString([]byte(s)))
			add(base64.URLEncoding.EncodeToString([]byte(s)))
			add(base64.RawStdEncoding.EncodeToString([]byte(s)))
		}
	}
	// Longest first, so that a secret inside another's form goes with it.
	for i := 1; i < len(r.forms); i++ {
		for j := i; j > 0 && len(r.forms[j]) > len(r.forms[j-1]); j-- {
			r.forms[j], r.forms[j-1] = r.forms[j-1], r.forms[j]
		}
	}
	return r
}

// Redact returns b with every form of the secrets replaced by
// [REDACTED].
func (r *Redactor) Redact(b []byte) []byte {
	if r == nil {
		return b
	}
	for _, f := range r.forms {
		if bytes.Contains(b, f) {
			b = bytes.ReplaceAll(b, f, []byte(redacted))
		}
	}
	return b
}

// RedactString is Redact for a string.
func (r *Redactor) RedactString(s string) string {
	if r == nil || len(r.forms) == 0 {
		return s
	}
	return string(r.Redact([]byte(s)))
}

// ReadAnswer is httpclient.ReadAnswer with the secrets removed from the
// snippet: it reads enough more than MaxSnippet that a secret starting
// inside the snippet is found whole, redacts, then cuts.
func (r *Redactor) ReadAnswer(resp *http.Response, keep bool) string {
	if r == nil || len(r.forms) == 0 {
		return ReadAnswer(resp, keep)
	}
	defer resp.Body.Close()
	var snippet string
	if keep {
		buf := make([]byte, MaxSnippet+1+r.longest)
		n, _ := io.ReadFull(resp.Body, buf)
		snippet = Snippet(r.Redact(buf[:n]))
	}
	Drain(resp.Body)
	return snippet
}
