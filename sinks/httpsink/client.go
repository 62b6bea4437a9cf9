package httpsink

import (
	"net"
	"net/http"
	"net/url"
	"time"
)

// maxRedirects bounds the redirects followed with follow_redirects.
const maxRedirects = 10

// newClient builds the HTTP client for cfg, whose TLS files Provision
// read; target is the parsed URL.
// The per-request timeout is applied through the request context, not
// http.Client.Timeout, so that it covers reading the response too and
// can be told apart from the caller's cancellation.
func newClient(cfg *Config, target *url.URL) (*http.Client, error) {
	tr := &http.Transport{
		DialContext: (&net.Dialer{
			Timeout:   cfg.Timeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          cfg.MaxIdleConns,
		MaxIdleConnsPerHost:   cfg.MaxIdleConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ExpectContinueTimeout: time.Second,
		// Bounded: the sink reads at most a snippet of any answer.
		MaxResponseHeaderBytes: 64 << 10,
	}
	if cfg.ProxyFromEnvironment {
		tr.Proxy = http.ProxyFromEnvironment
	}
	if target.Scheme == "https" {
		tc, err := cfg.TLS.Client()
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect(cfg.FollowRedirects, target)}, nil
}

// checkRedirect refuses redirects, so that a 3xx reaches the sink as a
// permanent failure, unless follow is set; then it follows only 307 and
// 308 (which keep the method and body) to the same scheme and host
// (which keeps custom headers, which may hold secrets, at home).
func checkRedirect(follow bool, target *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !follow || len(via) > maxRedirects {
			return http.ErrUseLastResponse
		}
		if st := req.Response.StatusCode; st != http.StatusTemporaryRedirect && st != http.StatusPermanentRedirect {
			return http.ErrUseLastResponse
		}
		if req.URL.Scheme != target.Scheme || req.URL.Host != target.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}
}
