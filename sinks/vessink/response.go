package vessink

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Class is what a collector's status means for the delivery.
type Class int

const (
	// Delivered means the collector took the events (202, or another 2xx).
	Delivered Class = iota
	// Transient means retrying may succeed (408, 425, 429, 5xx, unknown
	// statuses); the runner retries with backoff.
	Transient
	// Permanent means retrying the same request cannot succeed (3xx, which is
	// not followed, 400 and every other 4xx); the events are dead-lettered.
	Permanent
)

// String returns "delivered", "transient" or "permanent".
func (c Class) String() string {
	switch c {
	case Delivered:
		return "delivered"
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Classify maps a collector's final status to a Class.
func Classify(status int) Class {
	switch {
	case status >= 200 && status <= 299:
		return Delivered
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return Transient
	case status >= 300 && status <= 499:
		return Permanent
	}
	return Transient
}

// bisectable reports whether a permanent status can be about some events
// of a batch (400 with a schema violation, 413 or POL9003 too large), so
// that halves may succeed. Statuses about the request as a whole
// (redirects, credentials, the URL, the method) fail every half alike.
func bisectable(status int) bool {
	if status >= 300 && status <= 399 {
		return false
	}
	switch status {
	case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusProxyAuthRequired,
		http.StatusGone, http.StatusLengthRequired, http.StatusRequestURITooLong,
		http.StatusUnsupportedMediaType, http.StatusMisdirectedRequest, http.StatusUpgradeRequired,
		http.StatusRequestHeaderFieldsTooLarge, http.StatusUnavailableForLegalReasons:
		return false
	}
	return true
}

// StatusError is a collector answer that is not 2xx. Deliver returns it
// wrapped (in pipeline.Permanent when Classify says so); the dead letter's
// reason is its message. Use errors.As to inspect it.
type StatusError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// MessageID is the VES exception id (SVC0002, POL9003, ...) when the
	// body is a VES requestError.
	MessageID string
	// Text is the exception's text with its %1..%n variables filled in.
	Text string
	// Body is the start of any other body, on one line.
	Body string
}

// Error implements error: "status 400 Bad Request: SVC0002: Bad Parameter
// (JSON does not conform to schema)".
func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString("status ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	switch {
	case e.MessageID != "" || e.Text != "":
		b.WriteString(": ")
		b.WriteString(e.MessageID)
		if e.MessageID != "" && e.Text != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Text)
	case e.Body != "":
		b.WriteString(": ")
		b.WriteString(e.Body)
	}
	return b.String()
}

// maxSnippet bounds the text kept from an error body.
const maxSnippet = 512

// parseRequestError reads a VES error body,
// {"requestError":{"serviceException"|"policyException":{"messageId","text","variables"}}}.
// The reference collector writes ServiceException and PolicyException in
// UpperCamel while the spec writes lowerCamel; names match
// case-insensitively. variables may be an array of strings (the spec's
// tables) or one string (the schema).
func parseRequestError(body []byte) (messageID, text string, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "", "", false
	}
	reqErr, ok := memberFold(top, "requestError")
	if !ok {
		return "", "", false
	}
	var kinds map[string]json.RawMessage
	if json.Unmarshal(reqErr, &kinds) != nil {
		return "", "", false
	}
	exc, ok := memberFold(kinds, "serviceException")
	if !ok {
		if exc, ok = memberFold(kinds, "policyException"); !ok {
			return "", "", false
		}
	}
	var e struct {
		MessageID string          `json:"messageId"`
		Text      string          `json:"text"`
		Variables json.RawMessage `json:"variables"`
	}
	if json.Unmarshal(exc, &e) != nil {
		return "", "", false
	}
	var vars []string
	if json.Unmarshal(e.Variables, &vars) != nil {
		var one string
		if json.Unmarshal(e.Variables, &one) == nil && one != "" {
			vars = []string{one}
		}
	}
	return sanitizeSnippet([]byte(e.MessageID)), sanitizeSnippet([]byte(fillVariables(e.Text, vars))), e.MessageID != "" || e.Text != ""
}

func memberFold(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// fillVariables replaces %1..%n in text with vars[0..n-1]; markers
// without a variable stay.
func fillVariables(text string, vars []string) string {
	if len(vars) == 0 || !strings.Contains(text, "%") {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		if text[i] != '%' {
			b.WriteByte(text[i])
			continue
		}
		j := i + 1
		for j < len(text) && j-i <= 3 && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(text[i+1 : j])
		if err != nil || n < 1 || n > len(vars) {
			b.WriteByte('%')
			continue
		}
		b.WriteString(vars[n-1])
		i = j - 1
	}
	return b.String()
}

// sanitizeSnippet makes up to maxSnippet bytes printable on one line:
// invalid UTF-8 and control characters become spaces, runs of space
// collapse, and a longer text is cut with "…".
func sanitizeSnippet(b []byte) string {
	b = bytes.TrimSpace(b)
	cut := len(b) > maxSnippet
	if cut {
		b = b[:maxSnippet-len("…")]
	}
	var out strings.Builder
	out.Grow(len(b))
	space := false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 && !utf8.FullRune(b) {
			break // a character cut by the limit
		}
		b = b[size:]
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && out.Len() > 0 {
			out.WriteByte(' ')
		}
		space = false
		out.WriteRune(r)
	}
	if cut {
		out.WriteString("…")
	}
	return out.String()
}
