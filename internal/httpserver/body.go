package httpserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Errors of Body and of reading it.
var (
	// ErrTooLarge (wrapped, with the limit) means the body is larger than
	// max_body_bytes: answer 413.
	ErrTooLarge = errors.New("request body too large")
	// ErrBusy means the body does not fit in max_inflight_bytes now:
	// answer 503 with Retry-After: RetryAfterBusy.
	ErrBusy = errors.New("too many request bytes in flight")
)

// RetryAfterBusy is the Retry-After, in seconds, of an answer to ErrBusy:
// bodies in flight are short-lived.
const RetryAfterBusy = 1

// Body is a request body limited to max_body_bytes whose bytes count
// against the server's in-flight budget until Close. A body that
// announces its length takes it all when opened; a chunked one takes its
// bytes as they are read. Read returns ErrTooLarge or ErrBusy (wrapped)
// when a limit is reached.
type Body struct {
	r      io.Reader
	budget *Budget
	limit  int64
	held   int64
	// reserved is true when the announced length was taken up front.
	reserved bool
}

// Body opens r's body: it returns ErrTooLarge when the announced length
// is over max_body_bytes, and ErrBusy when it does not fit the budget
// (after discarding the body, which costs no memory, so that the client
// reads the 503).
// The caller must Close the Body.
func (s *Server) Body(w http.ResponseWriter, r *http.Request) (*Body, error) {
	limit := int64(s.cfg.MaxBodyBytes)
	b := &Body{r: http.MaxBytesReader(w, r.Body, limit), budget: s.budget, limit: limit}
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: the body is %d bytes, the limit is %d", ErrTooLarge, r.ContentLength, limit)
	}
	if r.ContentLength > 0 {
		if !s.budget.TryAcquire(r.ContentLength) {
			drain(b.r)
			return nil, ErrBusy
		}
		b.held, b.reserved = r.ContentLength, true
	}
	return b, nil
}

// Read implements io.Reader.
func (b *Body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 && !b.reserved {
		if !b.budget.TryAcquire(int64(n)) {
			drain(b.r)
			return 0, ErrBusy
		}
		b.held += int64(n)
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return n, fmt.Errorf("%w: it exceeds the limit of %d bytes", ErrTooLarge, b.limit)
	}
	return n, err
}

// Held returns the bytes of the budget the body holds.
func (b *Body) Held() int64 { return b.held }

// Close returns the body's bytes to the budget. It does not close the
// request body (net/http does). Safe to call more than once.
func (b *Body) Close() error {
	b.budget.Release(b.held)
	b.held = 0
	return nil
}

// drain reads and discards what is left of a refused body (at most
// max_body_bytes, through a small buffer), so that the client, still
// sending, reads the answer instead of a connection reset.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, r)
}
