package httpclient

import (
	"net/http"
	"slices"
	"strconv"
)

// Class is what a final response status means for a delivery.
type Class int

const (
	// Delivered means the peer took the request (2xx).
	Delivered Class = iota
	// Transient means retrying may succeed (408, 429, the caller's extra
	// transient statuses, 5xx and statuses outside 100-599).
	Transient
	// Permanent means retrying the same request cannot succeed (3xx, which
	// the sinks do not follow, and every other 4xx).
	Permanent
)

// String returns "delivered", "transient" or "permanent", and "Class(n)"
// for an unknown value.
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

// Classify maps a final response status to a Class: 2xx is Delivered;
// 408, 429 and the statuses listed in transient are Transient; any other
// 3xx or 4xx is Permanent; everything else (5xx, 1xx, statuses outside
// 100-599) is Transient, so that nothing is dropped on a peer's odd
// answer. transient can only turn a 3xx or 4xx into Transient; it
// cannot make a 2xx fail.
func Classify(status int, transient ...int) Class {
	switch {
	case status >= 200 && status <= 299:
		return Delivered
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, slices.Contains(transient, status):
		return Transient
	case status >= 300 && status <= 499:
		return Permanent
	default:
		return Transient
	}
}

// Bisectable reports whether a permanent status may be about the content
// of a batch (400, 409, 413, 422, ...), so that smaller requests can
// succeed. Statuses about the request itself (redirects, credentials, the
// URL, the method or the media type) fail every part of a batch alike,
// and bisecting would only multiply the requests. It says nothing about
// statuses Classify does not call Permanent.
func Bisectable(status int) bool {
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
