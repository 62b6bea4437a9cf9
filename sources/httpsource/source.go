package httpsource

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/sluice-dev/sluice/pipeline"
)

// Source is the HTTP CloudEvents source built by NewFactory. Besides
// pipeline.Source it offers Addr, to learn the bound address.
type Source struct {
	cfg    Config
	logger *slog.Logger
	clock  pipeline.Clock
	tel    *telemetry
	auth   *bearer

	running atomic.Bool
	ready   chan struct{} // closed once addr is set
	done    chan struct{} // closed when Run returns
	addr    net.Addr
}

var _ pipeline.Source = (*Source)(nil)

func newSource(set pipeline.Settings, cfg *Config) (*Source, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("new http source: telemetry: %w", err)
	}
	return &Source{
		cfg:    *cfg,
		logger: set.Logger,
		clock:  set.Clock,
		tel:    tel,
		auth:   newBearer(cfg.Token.Reveal()),
		ready:  make(chan struct{}),
		done:   make(chan struct{}),
	}, nil
}

// Addr returns the address the listener is bound to, waiting until Run
// has bound it. It returns ErrNotListening if Run ended without binding,
// or ctx's error. With listen port 0 this is how callers learn the port.
func (s *Source) Addr(ctx context.Context) (net.Addr, error) {
	select {
	case <-s.ready:
		return s.addr, nil
	default:
	}
	select {
	case <-s.ready:
		return s.addr, nil
	case <-s.done:
		return nil, ErrNotListening
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Provision implements pipeline.Provisioner (Provision(ctx) error): it
// reads the TLS files, so that a missing certificate is reported before
// Run, by `sluice validate` too. It binds nothing. Run provisions a
// source that was not provisioned. Not safe to call concurrently with Run.
func (s *Source) Provision(ctx context.Context) error {
	if err := s.cfg.TLS.Provision(ctx); err != nil {
		return fmt.Errorf("load tls certificate: %w", err)
	}
	return nil
}

// Run implements pipeline.Source. It binds the listener (an error binding
// it, or loading the TLS certificate, is returned), serves until ctx is
// cancelled, then shuts down gracefully: it stops accepting connections
// and lets requests in flight finish their append, for up to
// shutdown_timeout; after that their appends are abandoned and they are
// answered 503. Run returns nil after a cancellation, once every handler
// has returned.
func (s *Source) Run(ctx context.Context, host pipeline.SourceHost) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("run http source: already running or ran")
	}
	defer close(s.done)
	if ctx.Err() != nil {
		return nil
	}
	ln, err := s.listen(ctx)
	if err != nil {
		return err
	}
	s.addr = ln.Addr()
	close(s.ready)
	s.logStart(ctx)

	// Requests get their own context: cancelling ctx starts a graceful
	// shutdown, not the abandonment of appends in flight.
	reqCtx, stopRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRequests()
	h := s.newHandler(host, reqCtx.Done())
	srv := &http.Server{
		Handler:      h,
		ReadTimeout:  s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout,
		IdleTimeout:  s.cfg.IdleTimeout,
		BaseContext:  func(net.Listener) context.Context { return reqCtx },
		// net/http logs misbehaving clients (TLS handshake errors):
		// debug, not warnings an attacker can flood.
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopRequests()
		closeErr := srv.Close()
		h.inflight.closeAndWait()
		return fmt.Errorf("serve http source on %s: %w", s.addr, errors.Join(err, closeErr))
	}
	s.shutdown(ctx, srv, h, stopRequests)
	// Serve returns http.ErrServerClosed as soon as Shutdown begins.
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		s.logger.WarnContext(ctx, "http source: serve ended with an error during shutdown", slog.Any("error", err))
	}
	return nil
}

// newHandler returns the request handler emitting to host; abandoned is
// closed when in-flight requests are given up on.
func (s *Source) newHandler(host pipeline.SourceHost, abandoned <-chan struct{}) *handler {
	return &handler{cfg: &s.cfg, host: host, auth: s.auth, tel: s.tel, logger: s.logger, clock: s.clock, abandoned: abandoned}
}

// listen binds the configured address, with TLS if configured.
func (s *Source) listen(ctx context.Context) (net.Listener, error) {
	var tlsConfig *tls.Config
	if !s.cfg.TLS.IsZero() {
		if !s.cfg.TLS.Provisioned() {
			if err := s.Provision(ctx); err != nil {
				return nil, fmt.Errorf("run http source: %w", err)
			}
		}
		var err error
		if tlsConfig, err = s.cfg.TLS.Server("http/1.1"); err != nil {
			return nil, fmt.Errorf("run http source: %w", err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("run http source: %w", err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return ln, nil
}

// shutdown stops srv gracefully within shutdown_timeout, then abandons
// what is still in flight, and returns when no handler runs any more.
func (s *Source) shutdown(ctx context.Context, srv *http.Server, h *handler, stopRequests context.CancelFunc) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.logger.WarnContext(ctx, "http source: graceful shutdown timed out, abandoning requests in flight",
			slog.Duration("shutdown_timeout", s.cfg.ShutdownTimeout), slog.Any("error", err))
		// Handlers' appends end with their context and answer 503;
		// nothing they carried was acknowledged.
		stopRequests()
		h.inflight.closeAndWait()
		_ = srv.Close()
		return
	}
	h.inflight.closeAndWait()
}

func (s *Source) logStart(ctx context.Context) {
	scheme := "http"
	if !s.cfg.TLS.IsZero() {
		scheme = "https"
	}
	s.logger.InfoContext(ctx, "http source listening", slog.String("addr", s.addr.String()),
		slog.String("url", scheme+"://"+s.addr.String()+s.cfg.Path), slog.Bool("auth", s.auth != nil))
	if isLoopback(s.cfg.Listen) {
		return
	}
	switch {
	case s.auth == nil:
		s.logger.WarnContext(ctx, "http source accepts events from the network without a token", slog.String("listen", s.cfg.Listen))
	case s.cfg.TLS.IsZero():
		s.logger.WarnContext(ctx, "http source receives its bearer token over the network without TLS", slog.String("listen", s.cfg.Listen))
	}
}
