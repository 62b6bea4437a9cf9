package probesource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// userAgent is sent unless the probe's headers set another.
const userAgent = "sluice-probe/1"

// httpChecker runs http and https probes.
type httpChecker struct {
	client *http.Client
	// base is the request every check copies (with its own context):
	// the URL is parsed once.
	base       *http.Request
	body       string
	expect     statusSet
	expectBody []byte
	re         *regexp.Regexp
	maxBody    int64
	timeout    time.Duration
	redacted   string
	// limited bounds the body read; reused, as a probe runs one check at
	// a time.
	limited io.LimitedReader
}

var _ checker = (*httpChecker)(nil)

func newHTTPChecker(s spec, tr *http.Transport) (*httpChecker, error) {
	c := s.own
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", httpclient.UnwrapURLError(err))
	}
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	base, err := http.NewRequest(method, c.URL, nil) //nolint:noctx // a template: each check sets its context
	if err != nil {
		return nil, fmt.Errorf("url: %w", httpclient.UnwrapURLError(err))
	}
	base.Header.Set("User-Agent", userAgent)
	for k, v := range c.Headers {
		if strings.EqualFold(k, "Host") {
			base.Host = v.Reveal()
			continue
		}
		base.Header.Set(k, v.Reveal())
	}
	if c.Body != "" {
		base.ContentLength = int64(len(c.Body))
	}
	h := &httpChecker{
		base:     base,
		body:     c.Body,
		expect:   defaultStatus,
		maxBody:  int64(c.MaxResponseBytes),
		timeout:  s.timeout,
		redacted: httpclient.RedactURL(u),
	}
	if h.maxBody == 0 {
		h.maxBody = defaultMaxResponseBytes
	}
	if len(c.ExpectStatus) > 0 {
		h.expect = nil
		for _, st := range c.ExpectStatus {
			r, err := parseStatus(st)
			if err != nil {
				return nil, fmt.Errorf("expect_status: %w", err)
			}
			h.expect = append(h.expect, r)
		}
	}
	if c.ExpectBody != "" {
		h.expectBody = []byte(c.ExpectBody)
	}
	if c.ExpectBodyRegex != "" {
		if h.re, err = regexp.Compile(c.ExpectBodyRegex); err != nil {
			return nil, fmt.Errorf("expect_body_regex: %w", err)
		}
	}
	maxRedirects := c.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = defaultMaxRedirects
	}
	secret := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		if !strings.EqualFold(k, "Host") {
			secret = append(secret, k)
		}
	}
	h.client = &http.Client{Transport: tr, CheckRedirect: redirectPolicy(c.FollowRedirects, maxRedirects, secret)}
	return h, nil
}

// errDowngrade refuses a redirect from https to plain http.
var errDowngrade = errors.New("refused a redirect from https to plain http")

// redirectPolicy implements follow_redirects. A redirect that is not
// followed is judged by its own status (3xx is healthy by default). A
// redirect to plain http after https is never followed (the check fails:
// what was sent encrypted would go in clear), and a redirect to another
// host than the probe's URL drops the configured headers (secret), as
// the client itself drops Authorization and Cookie.
func redirectPolicy(policy string, limit int, secretHeaders []string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		switch policy {
		case RedirectsAny:
		case RedirectsSameHost:
			if req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
		default:
			return http.ErrUseLastResponse
		}
		if len(via) > limit {
			return fmt.Errorf("stopped after %d redirects", limit)
		}
		if req.URL.Scheme != "https" {
			for _, v := range via {
				if v.URL.Scheme == "https" {
					return fmt.Errorf("%w (to %s)", errDowngrade, httpclient.RedactURL(req.URL))
				}
			}
		}
		if req.URL.Host != via[0].URL.Host {
			for _, k := range secretHeaders {
				req.Header.Del(k)
			}
		}
		return nil
	}
}

func (h *httpChecker) target() string { return h.redacted }

func (h *httpChecker) check(ctx context.Context, _ time.Time) outcome {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	// The copy shares the template's URL and header map, which the client
	// only reads; a probe runs one check at a time.
	req := h.base.WithContext(ctx)
	if h.body != "" {
		req.Body = io.NopCloser(strings.NewReader(h.body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(h.body)), nil }
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return outcome{err: describeErr(ctx, err, h.timeout)}
	}
	defer resp.Body.Close()
	out := outcome{statusCode: resp.StatusCode}
	var data []byte
	h.limited = io.LimitedReader{R: resp.Body, N: h.maxBody}
	if h.expectBody != nil || h.re != nil {
		data, err = io.ReadAll(&h.limited)
	} else {
		// Reading the (bounded) body lets the connection be reused.
		_, err = io.Copy(io.Discard, &h.limited)
	}
	h.limited.R = nil
	switch {
	case !h.expect.contains(resp.StatusCode):
		out.err = fmt.Sprintf("status %d (want %s)", resp.StatusCode, h.expect)
	case err != nil && !errors.Is(err, io.EOF):
		out.err = "read body: " + describeErr(ctx, err, h.timeout)
	case h.expectBody != nil && !bytes.Contains(data, h.expectBody):
		out.err = fmt.Sprintf("body does not contain %q", h.expectBody)
	case h.re != nil && !h.re.Match(data):
		out.err = fmt.Sprintf("body does not match %q", h.re)
	default:
		out.healthy = true
	}
	return out
}
