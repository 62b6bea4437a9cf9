package lbworkersource

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/internal/libra"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// serveHTTP runs the HTTP transport on ln until ctx ends, then shuts down
// gracefully within shutdown_timeout.
func (s *source) serveHTTP(ctx context.Context, ln net.Listener) error {
	guard := httpserver.NewGuard(s.cfg.HTTP.Listen, s.cfg.HTTP.AllowedHosts)
	mux := http.NewServeMux()
	mux.HandleFunc(s.cfg.HTTP.Path, func(w http.ResponseWriter, r *http.Request) {
		// DNS rebinding and cross-site requests (httpserver.Guard).
		if err := guard.Check(r); err != nil {
			s.log.InfoContext(r.Context(), "lbworker http request refused", slog.String("remote", r.RemoteAddr), slog.String("reason", err.Error()))
			w.Header().Set("Content-Type", "application/json")
			writeReply(w, http.StatusForbidden, libra.FailReply(nil, err.Error()))
			return
		}
		s.serveRequest(w, r)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadTimeout:       s.cfg.HTTP.ReadTimeout,
		ReadHeaderTimeout: s.cfg.HTTP.ReadTimeout,
		WriteTimeout:      s.cfg.HTTP.WriteTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("lbworker http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("lbworker http: %w", serveErr)
	}
	if err != nil {
		_ = srv.Close()
	}
	return nil
}

// serveRequest answers one POST: the body is a Libra message, the reply
// body is Libra's reply. Status: 200 PASS (or the first reply to a
// resubmitted Idempotency-Key), 403 a Host or Origin refused by the
// guard (serveHTTP), 400 badRequest, 422 FAIL, 413 too large,
// 503 not journaled, 401 without the bearer token, 405 not a POST.
func (s *source) serveRequest(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != s.cfg.HTTP.Path {
		writeReply(w, http.StatusNotFound, libra.FailReply(nil, "not found"))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeReply(w, http.StatusMethodNotAllowed, libra.FailReply(nil, "method not allowed: use POST"))
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
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
	limit := int64(s.cfg.MaxRequestBytes)
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeReply(w, http.StatusBadRequest, libra.FailReply(nil, "read request: "+err.Error()))
		return
	}
	if int64(len(body)) > limit {
		in.oversize = len(body)
		if r.ContentLength > limit {
			in.oversize = int(r.ContentLength)
		}
	}
	in.body = body
	a := s.handle(r.Context(), in)
	status := http.StatusOK
	switch {
	case in.oversize > 0:
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

func (s *source) authorized(r *http.Request) bool {
	want := s.cfg.HTTP.Token.Reveal()
	if want == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func writeReply(w http.ResponseWriter, status int, body []byte) {
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
