package httpsink

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
)

// reservedHeaders are the canonical names the headers setting may not set:
// hop-by-hop headers (RFC 9110 §7.6.1) belong to the connection, and the
// rest are set by the sink itself.
var reservedHeaders = map[string]string{
	"Connection":          "hop-by-hop",
	"Keep-Alive":          "hop-by-hop",
	"Proxy-Connection":    "hop-by-hop",
	"Proxy-Authenticate":  "hop-by-hop",
	"Proxy-Authorization": "hop-by-hop",
	"Te":                  "hop-by-hop",
	"Trailer":             "hop-by-hop",
	"Transfer-Encoding":   "hop-by-hop",
	"Upgrade":             "hop-by-hop",
	"Content-Length":      "set by the sink",
	"Content-Type":        "set by the sink from mode",
	"Host":                "taken from url",
	"Idempotency-Key":     "set by the sink (see the package documentation)",
	"Traceparent":         "set by the sink from the delivery's trace",
	"Tracestate":          "set by the sink from the delivery's trace",
}

// validateHeaders checks custom header names and values. Values are
// secrets: messages never quote them.
func validateHeaders(h map[string]pipeline.Secret, hasAuth bool) []error {
	var errs []error
	seen := make(map[string]string, len(h))
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names) // report in a stable order
	for _, name := range names {
		field := "headers." + name
		if !validHeaderName(name) {
			errs = append(errs, pipeline.FieldErrorf(field, "%q is not a valid header name", name))
			continue
		}
		canon := http.CanonicalHeaderKey(name)
		if why, ok := reservedHeaders[canon]; ok {
			errs = append(errs, pipeline.FieldErrorf(field, "%s may not be set here: %s", canon, why))
			continue
		}
		if canon == "Authorization" && hasAuth {
			errs = append(errs, pipeline.FieldErrorf(field, "conflicts with basic or bearer_token authentication"))
			continue
		}
		if other, dup := seen[canon]; dup {
			errs = append(errs, pipeline.FieldErrorf(field, "names the same header as %q (names are case-insensitive)", other))
			continue
		}
		seen[canon] = name
		if !validHeaderValue(h[name].Reveal()) {
			errs = append(errs, pipeline.FieldErrorf(field, "value must not contain control characters or line breaks"))
		}
	}
	return errs
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s is a valid field value: visible
// characters, spaces and tabs, and obs-text, without leading or trailing
// whitespace (which HTTP would strip).
func validHeaderValue(s string) bool {
	if s != strings.Trim(s, " \t") {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// buildHeaders returns the configured headers in canonical form.
func buildHeaders(h map[string]pipeline.Secret) http.Header {
	out := make(http.Header, len(h))
	for name, v := range h {
		out[http.CanonicalHeaderKey(name)] = []string{v.Reveal()}
	}
	return out
}
