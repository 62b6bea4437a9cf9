package httpsink

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// Class is what a response status means for the delivery.
type Class = httpclient.Class

const (
	// Delivered means the peer took the events (2xx).
	Delivered = httpclient.Delivered
	// Transient means retrying may succeed (408, 425, 429, 5xx, and statuses
	// outside 100-599). The runner retries with backoff.
	Transient = httpclient.Transient
	// Permanent means retrying the same request cannot succeed (3xx, which is
	// not followed, and every other 4xx). The events are dead-lettered.
	Permanent = httpclient.Permanent
)

// Classify maps a final response status to a Class. 1xx never reaches
// it as a final status; anything the table does not know is Transient, so
// that nothing is dropped on a peer's odd answer.
func Classify(status int) Class {
	return httpclient.Classify(status, http.StatusTooEarly)
}

// StatusError is a response whose status is not 2xx. Deliver returns it
// wrapped, and wrapped in pipeline.Permanent when Classify says so; use
// errors.As to inspect it.
type StatusError struct {
	// StatusCode is the response status.
	StatusCode int
	// Body is the start of the response body (at most 512 bytes), with
	// control characters replaced, for the error message.
	Body string
	// RetryAfter is the peer's Retry-After answer (429, 503), as a delay;
	// zero if absent or unparsable. The runner's backoff owns the wait;
	// the value is in the message for operators.
	RetryAfter time.Duration
	// Location is the redirect target of a 3xx answer, without query.
	Location string
}

// Error implements error.
func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString("status ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if e.StatusCode >= 300 && e.StatusCode <= 399 {
		b.WriteString(": unexpected redirect")
		if e.Location != "" {
			b.WriteString(" to ")
			b.WriteString(e.Location)
		}
		b.WriteString(" (not followed; fix url)")
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	if e.Body != "" {
		b.WriteString(": ")
		b.WriteString(e.Body)
	}
	return b.String()
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3). A date in the past is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0
	}
	return t.Sub(now).Round(time.Second)
}
