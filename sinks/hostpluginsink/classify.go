package hostpluginsink

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// Class is what an answer means for the delivery.
type Class = httpclient.Class

const (
	// Delivered means the HealthService took the report (2xx).
	Delivered = httpclient.Delivered
	// Transient means retrying may succeed (408, 429, 5xx, configured
	// retry_statuses, unknown statuses, no answer at all).
	Transient = httpclient.Transient
	// Permanent means retrying cannot succeed (every other 4xx, and 3xx, which
	// is not followed). The report is dead-lettered with the answer.
	Permanent = httpclient.Permanent
)

// Classify maps a response status to a Class; retry lists extra 4xx
// statuses to treat as transient. Unlike the other HTTP sinks, 425 is
// permanent unless listed. WALinuxAgent never looks at the status.
func Classify(status int, retry []int) Class {
	return httpclient.Classify(status, retry...)
}

// Origin says where a failure came from.
type Origin string

const (
	// OriginHostPlugin means the endpoint itself answered with an error.
	OriginHostPlugin Origin = "hostplugin"
	// OriginUpstream means the endpoint reported that something behind it
	// failed (502, as WALinuxAgent 2.7's request_failed_at_hostplugin
	// reads it).
	OriginUpstream Origin = "upstream"
	// OriginNetwork means no answer came back (connection refused or reset,
	// timeout); whether the endpoint is down or unreachable is unknown.
	OriginNetwork Origin = "network"
)

// internalErrorMarker is the prefix newer agents (fetch_vm_settings) put
// on 502 answers the HostGAPlugin sends for its own internal errors.
const internalErrorMarker = "[Internal error in HostGAPlugin]"

// OriginOf says where a failed answer came from. A 502 is "upstream"
// (WALinuxAgent 2.7: "Host plugin will return 502 for any upstream
// issue"), unless its body carries the marker newer agents use for the
// plugin's own errors reported as 502, which is "hostplugin"; every
// other error status is "hostplugin".
func OriginOf(status int, body string) Origin {
	if status == http.StatusBadGateway && !strings.Contains(body, internalErrorMarker) {
		return OriginUpstream
	}
	return OriginHostPlugin
}

// StatusError is an answer that is not 2xx. Deliver returns it wrapped
// (in pipeline.Permanent when Classify says so); use errors.As.
type StatusError struct {
	// StatusCode is the response status.
	StatusCode int
	// Origin says whether the plugin or something upstream failed.
	Origin Origin
	// Body is the start of the answer (at most 512 bytes), on one line.
	Body string
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
	switch {
	case e.StatusCode >= 300 && e.StatusCode <= 399:
		b.WriteString(" (redirects are not followed; check endpoint)")
	case e.Origin == OriginUpstream:
		b.WriteString(" (failure upstream of the host plugin)")
	case e.Origin == OriginHostPlugin:
		b.WriteString(" (from the host plugin)")
	}
	if e.Body != "" {
		b.WriteString(": ")
		b.WriteString(e.Body)
	}
	return b.String()
}

// NetworkError is a request that got no answer. It is transient.
type NetworkError struct {
	Err error
}

// Error implements error.
func (e *NetworkError) Error() string { return "no answer (network): " + e.Err.Error() }

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.Err }

// FailureOrigin returns the Origin of a Deliver error: that of its
// StatusError, OriginNetwork for a NetworkError, and "" otherwise.
func FailureOrigin(err error) Origin {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Origin
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return OriginNetwork
	}
	return ""
}
