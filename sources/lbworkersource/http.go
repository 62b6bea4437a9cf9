package lbworkersource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/internal/libra"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// serveHTTP runs the HTTP transport on ln (bound by the shared
// internal/httpserver plumbing: max_connections, TLS) until ctx ends, then
// shuts down gracefully within http.shutdown_timeout.
func (s *source) serveHTTP(ctx context.Context, ln net.Listener) error {
	if err := s.srv.Serve(ctx, ln, http.HandlerFunc(s.serveRequest)); err != nil {
		return fmt.Errorf("lbworker http: %w", err)
	}
	return nil
}

// serveRequest answers one POST: the body is a Libra message, the reply
// body is Libra's reply. Status: 200 PASS (or the first reply to a
// resubmitted Idempotency-Key), 400 badRequest, 422 FAIL, 413 too large,
// 503 not journaled (or the server busy or stopping), 504 not applied
// within reply_timeout, 401 without the bearer token, 403 a Host or
// Origin refused, 405 not a POST.
func (s *source) serveRequest(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.srv.Enter() {
		writeReply(w, http.StatusServiceUnavailable, libra.FailReply(nil, "the worker is stopping"))
		return
	}
	defer s.srv.Leave()
	if err := s.srv.CheckSite(r); err != nil {
		s.log.InfoContext(r.Context(), "lbworker http request refused", slog.String("remote", r.RemoteAddr), slog.String("reason", err.Error()))
		writeReply(w, http.StatusForbidden, libra.FailReply(nil, err.Error()))
		return
	}
	if r.URL.Path != s.cfg.HTTP.Path {
		writeReply(w, http.StatusNotFound, libra.FailReply(nil, "not found"))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeReply(w, http.StatusMethodNotAllowed, libra.FailReply(nil, "method not allowed: use POST"))
		return
	}
	if err := s.srv.Authorize(r.Header); err != nil {
		w.Header().Set("WWW-Authenticate", httpserver.Challenge(err))
		writeReply(w, http.StatusUnauthorized, libra.FailReply(nil, "unauthorized"))
		return
	}
	in := inbound{transport: libra.TransportHTTP, client: r.RemoteAddr}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > maxIdempotencyKey || strings.ContainsFunc(key, func(c rune) bool { return c < ' ' || c > '~' }) {
			writeReply(w, http.StatusBadRequest, libra.FailReply(nil, "Idempotency-Key must be at most 255 printable ASCII characters"))
			return
		}
		in.requestID, in.dedupeKey = key, "http/"+key
	}
	body, err := s.readBody(w, r)
	switch {
	case errors.Is(err, httpserver.ErrTooLarge):
		in.oversize = -1
		if r.ContentLength > 0 {
			in.oversize = int(r.ContentLength)
		}
	case errors.Is(err, httpserver.ErrBusy):
		w.Header().Set("Retry-After", strconv.Itoa(httpserver.RetryAfterBusy))
		writeReply(w, http.StatusServiceUnavailable, libra.FailReply(nil, "busy: too many request bytes in flight (http.max_inflight_bytes), retry later"))
		return
	case err != nil:
		writeReply(w, http.StatusBadRequest, libra.FailReply(nil, "read request: "+err.Error()))
		return
	}
	if body.Body != nil {
		defer func() { _ = body.Close() }() // after the append: the event holds the body's bytes
		in.body = body.data
	}
	a := s.handle(r.Context(), in)
	status := http.StatusOK
	switch {
	case in.oversize != 0:
		status = http.StatusRequestEntityTooLarge
	case a.outcome == outcomeBadRequest:
		status = http.StatusBadRequest
	case a.outcome == outcomeNotStored:
		status = http.StatusServiceUnavailable
	case a.outcome == outcomeNotApplied:
		status = http.StatusGatewayTimeout
	case a.outcome == outcomeFail:
		status = http.StatusUnprocessableEntity
	}
	writeReply(w, status, a.body)
}

// heldBody is a request body read whole, holding its bytes of the
// server's in-flight budget until Close.
type heldBody struct {
	*httpserver.Body
	data []byte
}

// readBody reads r's body within max_request_bytes and the in-flight
// budget (httpserver.Body). A body of announced length is read into one
// buffer of that size.
func (s *source) readBody(w http.ResponseWriter, r *http.Request) (heldBody, error) {
	b, err := s.srv.Body(w, r)
	if err != nil {
		return heldBody{}, err
	}
	var data []byte
	if n := r.ContentLength; n > 0 { // at most max_request_bytes (Body)
		data = make([]byte, n)
		_, err = io.ReadFull(b, data)
	} else {
		data, err = io.ReadAll(b)
	}
	if err != nil {
		_ = b.Close()
		return heldBody{}, err
	}
	return heldBody{Body: b, data: data}, nil
}

func writeReply(w http.ResponseWriter, status int, body []byte) {
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
