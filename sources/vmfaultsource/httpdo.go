package vmfaultsource

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// Errors of the HTTP layer.
var (
	// ErrStatus is an HTTP answer other than the expected one.
	ErrStatus = errors.New("unexpected HTTP status")
	// ErrTooLarge is a response body over max_response_bytes.
	ErrTooLarge = errors.New("response body too large")
	// ErrMalformed is a response that does not parse or lacks what it
	// must carry.
	ErrMalformed = errors.New("malformed response")
)

// maxRetryAfter caps a peer's Retry-After, so that a hostile or broken
// value cannot stop polling for hours.
const maxRetryAfter = 10 * time.Minute

// statusError is a non-success answer: its code, Retry-After (0 when
// absent) and the start of its body.
type statusError struct {
	op         string
	code       int
	retryAfter time.Duration
	snippet    string
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.op, e.code)
	if e.retryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.retryAfter)
	}
	if e.snippet != "" {
		s += ": " + e.snippet
	}
	return s
}

func (e *statusError) Unwrap() error { return ErrStatus }

// statusOf returns the HTTP status of err, or 0.
func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.code
	}
	return 0
}

// retryAfterOf returns the wait err asks for (429 and 503 with
// Retry-After), or 0.
func retryAfterOf(err error) time.Duration {
	var se *statusError
	if errors.As(err, &se) && (se.code == http.StatusTooManyRequests || se.code == http.StatusServiceUnavailable) {
		return se.retryAfter
	}
	return 0
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3); 0 if absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// readBody reads at most limit bytes of r; more is ErrTooLarge.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// httpDoer sends requests with a per-request timeout and a body limit.
type httpDoer struct {
	client  *http.Client
	timeout time.Duration
	limit   int64
	now     func() time.Time
}

// answer is an HTTP response read whole.
type answer struct {
	code   int
	header http.Header
	body   []byte
}

// do sends req, expecting one of want; it returns the response with its
// body read. Any other status is a *statusError.
func (h *httpDoer) do(ctx context.Context, op string, req *http.Request, want ...int) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req.Header.Set("User-Agent", httpclient.UserAgent())
	resp, err := h.client.Do(req.WithContext(ctx))
	if err != nil {
		return answer{}, fmt.Errorf("%s: %w", op, httpclient.UnwrapURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := readBody(resp.Body, h.limit)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %w", op, err)
	}
	a := answer{code: resp.StatusCode, header: resp.Header, body: body}
	for _, w := range want {
		if resp.StatusCode == w {
			return a, nil
		}
	}
	return a, &statusError{
		op: op, code: resp.StatusCode, snippet: httpclient.Snippet(body),
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), h.now()),
	}
}

// newHTTPClient returns the client of the Keystone and Nova connections.
// It follows no redirects: a redirected auth request would resend the
// password elsewhere.
func newHTTPClient(tc *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	tr.TLSClientConfig = tc
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
