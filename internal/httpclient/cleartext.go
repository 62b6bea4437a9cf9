package httpclient

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrCleartextCredentials is returned (wrapped) by CheckCredentialTransport
// for credentials that would cross the network unencrypted.
var ErrCleartextCredentials = errors.New("credentials over plain http are sent in clear")

// CheckCredentialTransport is the one rule for sending credentials (basic
// authentication, a bearer token, a password in the URL): over https they
// may go anywhere; over plain http only to a loopback host (localhost, or
// an address in 127.0.0.0/8 or ::1), where they never leave the machine,
// unless allowInsecure (a component's allow_insecure_auth: true) is set.
// u must be an absolute http or https URL; the error wraps
// ErrCleartextCredentials and never contains the URL's userinfo.
func CheckCredentialTransport(u *url.URL, allowInsecure bool) error {
	if u == nil || u.Scheme != "http" || allowInsecure || IsLoopbackHost(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%w to %s: use an https URL, or set allow_insecure_auth: true to accept that anyone on the path can read them", ErrCleartextCredentials, u.Host)
}

// IsLoopbackHost reports whether host (without port or brackets) is
// "localhost", a name under ".localhost" (RFC 6761), or a loopback IP
// address.
func IsLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
