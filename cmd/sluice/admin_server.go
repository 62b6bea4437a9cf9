package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// adminTimeouts bound a client's hold on an admin connection. A response
// that streams (records, dead letters, replay progress, exports) lifts
// the read deadline once it has read its request and moves the write
// deadline forward before each write (streaming), so that it may last as
// long as its client keeps reading.
type adminTimeouts struct {
	// ReadHeader bounds reading a request's headers; Read its headers and
	// body (a slow body is cut off).
	ReadHeader, Read time.Duration
	// Write bounds the response of a request that does not stream, and
	// each write of one that does.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for a request.
	Idle time.Duration
	// Shutdown bounds the graceful stop.
	Shutdown time.Duration
}

// defaultAdminTimeouts are the engine's.
var defaultAdminTimeouts = adminTimeouts{
	ReadHeader: 5 * time.Second,
	Read:       10 * time.Second,
	Write:      30 * time.Second,
	Idle:       2 * time.Minute,
	Shutdown:   5 * time.Second,
}

// serveAdmin serves h on ln, with the timeouts t, until ctx ends, then
// shuts down within t.Shutdown. It closes ln. connContext, if not nil,
// is the server's ConnContext (the socket's peer credentials).
func serveAdmin(ctx context.Context, ln net.Listener, h http.Handler, t adminTimeouts, log *slog.Logger,
	connContext func(context.Context, net.Conn) context.Context,
) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ConnContext:       connContext,
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.WithoutCancel(ctx), writeTimeoutKey{}, t.Write)
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	log.Info("admin listening", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin listener %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.Shutdown)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

type writeTimeoutKey struct{}

// streamWriter is a response that streams: see streaming.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// streaming prepares w for a response that streams, once r has been
// read: it removes the read deadline (the connection is still watched,
// so a client going away cancels the request) and the write deadline;
// each Write and Flush then sets the write deadline to the server's write
// timeout from now, so a client that stops reading is cut off while one
// that reads may stream for as long as it likes. Outside serveAdmin
// (tests) the deadlines are left alone.
func streaming(w http.ResponseWriter, r *http.Request) *streamWriter {
	s := &streamWriter{w: w, rc: http.NewResponseController(w)}
	if d, ok := r.Context().Value(writeTimeoutKey{}).(time.Duration); ok && d > 0 {
		s.timeout = d
		_ = s.rc.SetReadDeadline(time.Time{})
		_ = s.rc.SetWriteDeadline(time.Time{})
	}
	return s
}

func (s *streamWriter) deadline() {
	if s.timeout > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	}
}

// Write writes p within the write timeout.
func (s *streamWriter) Write(p []byte) (int, error) {
	s.deadline()
	return s.w.Write(p)
}

// Flush sends what was written within the write timeout.
func (s *streamWriter) Flush() {
	s.deadline()
	_ = s.rc.Flush()
}
