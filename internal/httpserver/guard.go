package httpserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
)

// Errors of Guard.Check, each answered 403 with the error's text as the
// reason.
var (
	// ErrHostNotAllowed means the request's Host is neither loopback, nor
	// the listen address's host, nor in allowed_hosts: a browser tricked
	// by DNS rebinding sends the attacker's name as Host.
	ErrHostNotAllowed = errors.New("host not allowed")
	// ErrCrossSite means a browser sent the request on behalf of another
	// site's page (its Origin is not this server's, or Sec-Fetch-Site says
	// cross-site or same-site).
	ErrCrossSite = errors.New("cross-site request refused")
)

// AnyHost is the allowed_hosts entry that accepts every Host (the DNS
// rebinding check is then off; Origin and Sec-Fetch-Site are still
// checked).
const AnyHost = "*"

// Guard refuses requests a browser could be tricked into sending: a Host
// that is not one of the server's names (DNS rebinding), an Origin other
// than the server's own, and Sec-Fetch-Site cross-site or same-site.
// Clients that are not browsers send neither Origin nor Sec-Fetch-Site
// and use one of the accepted Host values.
//
// Accepted Host values: loopback IP addresses, "localhost" and names
// under ".localhost" (RFC 6761: they resolve to loopback only), the host
// of the listen address when it is not a wildcard, and the allowed
// names: exact names or IP addresses, "*.example.com" for the names under
// example.com, and "*" for any. The port is ignored; names compare
// without case and without a trailing dot. A request without Host
// (HTTP/1.0) is accepted: browsers always send one.
type Guard struct {
	any      bool
	names    map[string]bool
	suffixes []string
}

// NewGuard returns the guard of a server listening on listen (host:port)
// that also answers to allowed. Entries are assumed valid
// (ValidateAllowedHosts).
func NewGuard(listen string, allowed []string) *Guard {
	g := &Guard{names: map[string]bool{}}
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" {
		if a, err := netip.ParseAddr(host); err != nil || !a.IsUnspecified() {
			g.names[normalizeHost(host)] = true
		}
	}
	for _, h := range allowed {
		switch {
		case h == AnyHost:
			g.any = true
		case strings.HasPrefix(h, "*."):
			g.suffixes = append(g.suffixes, normalizeHost(h[1:]))
		default:
			g.names[normalizeHost(h)] = true
		}
	}
	return g
}

// Check returns nil for a request the guard accepts, and an error
// wrapping ErrHostNotAllowed or ErrCrossSite, with the reason, otherwise.
func (g *Guard) Check(r *http.Request) error {
	host, _ := splitHost(r.Host)
	if r.Host != "" && !g.hostAllowed(host) {
		return fmt.Errorf("%w: Host %q is not a name of this server (DNS rebinding?): use a loopback address, or add the name to allowed_hosts", ErrHostNotAllowed, r.Host)
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		return fmt.Errorf("%w: Sec-Fetch-Site is %s: a page of another site sent this request", ErrCrossSite, site)
	}
	if origin, ok := r.Header["Origin"]; ok {
		if len(origin) != 1 || !sameOrigin(origin[0], r) {
			return fmt.Errorf("%w: Origin %q is not this server's origin", ErrCrossSite, strings.Join(origin, ", "))
		}
	}
	return nil
}

// Handler returns h behind the guard: a refused request is answered 403
// with a JSON body {"error": reason}, after refused (if not nil) was
// called with it, for logs and metrics.
func (g *Guard) Handler(h http.Handler, refused func(r *http.Request, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Check(r); err != nil {
			if refused != nil {
				refused(r, err)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusForbidden)
			_, _ = fmt.Fprintf(w, "{\"error\":%s}\n", strconv.Quote(err.Error()))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// RefusalReason names the check err failed, for a metric attribute:
// "host", "cross_site" or "" for any other error.
func RefusalReason(err error) string {
	switch {
	case errors.Is(err, ErrHostNotAllowed):
		return "host"
	case errors.Is(err, ErrCrossSite):
		return "cross_site"
	}
	return ""
}

func (g *Guard) hostAllowed(host string) bool {
	if g.any || isLoopbackName(host) || g.names[host] {
		return true
	}
	for _, s := range g.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

func isLoopbackName(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// sameOrigin reports whether a browser's Origin value is the request's
// own scheme, host and port.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" || u.User != nil {
		return false // includes "null"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !strings.EqualFold(u.Scheme, scheme) {
		return false
	}
	oh, op := splitHost(u.Host)
	rh, rp := splitHost(r.Host)
	return oh == rh && portOr(op, scheme) == portOr(rp, scheme)
}

// splitHost returns a Host value's normalized host and its port ("" when
// absent).
func splitHost(hostport string) (host, port string) {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		h, p = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), ""
	}
	return normalizeHost(h), p
}

func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

func portOr(port, scheme string) string {
	if port != "" {
		return port
	}
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// ValidateAllowedHosts returns a pipeline.FieldError for each
// allowed_hosts entry that is not a DNS name, an IP address, a
// "*.name" pattern or "*", naming field[i].
func ValidateAllowedHosts(field string, hosts []string) []error {
	var errs []error
	for i, h := range hosts {
		name := strings.TrimPrefix(h, "*.")
		ok := h == AnyHost || validHostname(name)
		if _, err := netip.ParseAddr(h); err == nil {
			ok = true
		}
		if !ok {
			errs = append(errs, pipeline.FieldErrorf(fmt.Sprintf("%s[%d]", field, i),
				"must be a DNS name, an IP address, *.DOMAIN or *, got %q", h))
		}
	}
	return errs
}
