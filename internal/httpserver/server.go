package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	"golang.org/x/net/netutil"
)

// Server is the HTTP server plumbing of a component: it binds the
// configured address (at most max_connections open connections, TLS when
// configured), checks bearer tokens, bounds request bodies one by one and
// together (Body), tracks the requests in flight and shuts down
// gracefully. The component brings the handler, which calls Enter and
// Leave around each request, CheckSite, Authorize and Body.
//
// A Server serves once: Listen, then Serve.
type Server struct {
	cfg    Config
	name   string
	log    *slog.Logger
	auth   *bearer
	guard  *Guard
	budget *Budget

	inflight inflight
	served   atomic.Bool
	// abandoned is closed when a shutdown gives up on requests in flight.
	abandoned chan struct{}
}

// New returns a server for cfg; name ("http source") prefixes its errors
// and log messages. cfg is copied: provision the copy with Provision.
func New(cfg *Config, name string, logger *slog.Logger) *Server {
	return &Server{
		cfg: *cfg, name: name, log: logger,
		auth:      newBearer(cfg.Token.Reveal()),
		guard:     NewGuard(cfg.Listen, cfg.AllowedHosts),
		budget:    NewBudget(int64(cfg.MaxInflightBytes)),
		abandoned: make(chan struct{}),
	}
}

// Provision reads the TLS files (see tlsconfig.Config.Provision). Listen
// provisions a server that was not provisioned.
func (s *Server) Provision(ctx context.Context) error {
	if err := s.cfg.TLS.Provision(ctx); err != nil {
		return fmt.Errorf("load tls certificate: %w", err)
	}
	return nil
}

// Budget returns the in-flight byte budget shared by the bodies.
func (s *Server) Budget() *Budget { return s.budget }

// Authorize returns nil when the request presents the configured bearer
// token or none is configured, and ErrMissingToken or ErrInvalidToken
// otherwise (answer 401 with WWW-Authenticate: Challenge(err)).
func (s *Server) Authorize(h http.Header) error { return s.auth.check(h) }

// CheckSite returns nil when the request's Host is one of the server's
// names and no other site's page sent it, and an error wrapping
// ErrHostNotAllowed or ErrCrossSite otherwise (answer 403 with the
// error as the reason). See Guard.
func (s *Server) CheckSite(r *http.Request) error { return s.guard.Check(r) }

// AuthRequired reports whether a token is configured.
func (s *Server) AuthRequired() bool { return s.auth != nil }

// Enter registers a request in flight; it reports false once the server
// shuts down (answer 503). Every successful Enter needs a Leave.
func (s *Server) Enter() bool { return s.inflight.enter() }

// Leave ends a request registered by Enter.
func (s *Server) Leave() { s.inflight.leave() }

// Abandoned is closed when a shutdown gives up on the requests still in
// flight (after shutdown_timeout); their contexts are cancelled then.
func (s *Server) Abandoned() <-chan struct{} { return s.abandoned }

// Listen binds the configured address: a TCP listener accepting at most
// max_connections connections at once (the others wait in the backlog),
// with TLS when configured, provisioning the TLS files first if needed.
func (s *Server) Listen(ctx context.Context) (net.Listener, error) {
	var tlsConfig *tls.Config
	if s.cfg.TLSEnabled() {
		if !s.cfg.TLS.Provisioned() {
			if err := s.Provision(ctx); err != nil {
				return nil, err
			}
		}
		var err error
		if tlsConfig, err = s.cfg.TLS.Server("http/1.1"); err != nil {
			return nil, err
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return nil, err
	}
	ln = netutil.LimitListener(ln, s.cfg.MaxConnections)
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return ln, nil
}

// Serve serves h on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections and lets the requests in
// flight finish, for up to shutdown_timeout; after that it closes
// Abandoned, cancels their contexts and waits for their handlers. Request
// contexts do not end with ctx, so that a graceful shutdown lets a
// request finish what it started. Serve returns nil after a cancellation,
// once every handler that called Enter has called Leave, and the error
// that stopped it otherwise.
func (s *Server) Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	if !s.served.CompareAndSwap(false, true) {
		return errors.New(s.name + ": already served")
	}
	reqCtx, stopRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRequests()
	srv := &http.Server{
		Handler:      h,
		ReadTimeout:  s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout,
		IdleTimeout:  s.cfg.IdleTimeout,
		BaseContext:  func(net.Listener) context.Context { return reqCtx },
		// net/http logs misbehaving clients (TLS handshake errors):
		// debug, not warnings an attacker can flood.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		close(s.abandoned)
		stopRequests()
		closeErr := srv.Close()
		s.inflight.closeAndWait()
		return fmt.Errorf("serve %s on %s: %w", s.name, ln.Addr(), errors.Join(err, closeErr))
	}
	s.shutdown(ctx, srv, stopRequests)
	// Serve returns http.ErrServerClosed as soon as Shutdown begins.
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		s.log.WarnContext(ctx, "http server: serve ended with an error during shutdown", slog.String("server", s.name), slog.Any("error", err))
	}
	return nil
}

// shutdown stops srv gracefully within shutdown_timeout, then abandons
// what is still in flight, and returns when no handler runs any more.
func (s *Server) shutdown(ctx context.Context, srv *http.Server, stopRequests context.CancelFunc) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.WarnContext(ctx, "http server: graceful shutdown timed out, abandoning requests in flight",
			slog.String("server", s.name), slog.Duration("shutdown_timeout", s.cfg.ShutdownTimeout), slog.Any("error", err))
		close(s.abandoned)
		stopRequests()
		s.inflight.closeAndWait()
		_ = srv.Close()
		return
	}
	s.inflight.closeAndWait()
}
