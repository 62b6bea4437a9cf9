package vessink

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// Class is what a collector's status means for the delivery.
type Class = httpclient.Class

const (
	// Delivered means the collector took the events (202, or another 2xx).
	Delivered = httpclient.Delivered
	// Transient means retrying may succeed (408, 425, 429, 5xx, unknown
	// statuses); the runner retries with backoff.
	Transient = httpclient.Transient
	// Permanent means retrying the same request cannot succeed (3xx, which is
	// not followed, 400 and every other 4xx); the events are dead-lettered.
	Permanent = httpclient.Permanent
)

// Classify maps a collector's final status to a Class.
func Classify(status int) Class {
	return httpclient.Classify(status, http.StatusTooEarly)
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

// sanitizeSnippet makes up to httpclient.MaxSnippet bytes of b, after
// trimming its surrounding space, printable on one line (see
// httpclient.Snippet).
func sanitizeSnippet(b []byte) string {
	return httpclient.Snippet(bytes.TrimSpace(b))
}
