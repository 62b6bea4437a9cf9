package httpsource

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Retry-After values for 503 answers.
const (
	retryAfterFull     = 30 // the journal needs retention to free space
	retryAfterShutdown = 5  // another instance, or this one restarted
)

// response is what the handler answers; ServeHTTP writes it.
type response struct {
	status int
	header http.Header
	body   any
	// events is how many events the request carried (0 if undecodable).
	events int
	// err is the cause of a 5xx, for logs and spans; never sent.
	err error
}

// acceptedBody is the body of a 202.
type acceptedBody struct {
	Accepted int `json:"accepted"`
}

// errorBody is the body of every 4xx and 5xx.
type errorBody struct {
	Error string `json:"error"`
	// Index is the position of the offending event in a batch.
	Index *int `json:"index,omitempty"`
}

func accepted(n int) response {
	return response{status: http.StatusAccepted, body: acceptedBody{Accepted: n}, events: n}
}

func failure(status int, format string, args ...any) response {
	return response{status: status, body: errorBody{Error: fmt.Sprintf(format, args...)}}
}

func (r response) withHeader(key, value string) response {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set(key, value)
	return r
}

func unavailable(retryAfter int, err error, format string, args ...any) response {
	r := failure(http.StatusServiceUnavailable, format, args...).withHeader("Retry-After", strconv.Itoa(retryAfter))
	r.err = err
	return r
}

func (r response) write(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	b, err := json.Marshal(r.body)
	if err != nil {
		b = []byte(`{"error":"internal error"}`)
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(append(b, '\n'))
}
