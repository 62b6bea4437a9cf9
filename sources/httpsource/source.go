package httpsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/pipeline"
)

// Source is the HTTP CloudEvents source built by NewFactory. Besides
// pipeline.Source it offers Addr, to learn the bound address.
type Source struct {
	cfg    Config
	logger *slog.Logger
	clock  pipeline.Clock
	tel    *telemetry
	srv    *httpserver.Server
	json   *jsonDecoder // format: json; nil for CloudEvents

	running atomic.Bool
	ready   chan struct{} // closed once addr is set
	done    chan struct{} // closed when Run returns
	addr    net.Addr
}

var (
	_ pipeline.Source      = (*Source)(nil)
	_ pipeline.Provisioner = (*Source)(nil)
)

func newSource(set pipeline.Settings, cfg *Config) (*Source, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("new http source: telemetry: %w", err)
	}
	var jd *jsonDecoder
	if cfg.Format == FormatJSON {
		if jd, err = newJSONDecoder(cfg); err != nil {
			return nil, fmt.Errorf("new http source: %w", err)
		}
	}
	return &Source{
		json:   jd,
		cfg:    *cfg,
		logger: set.Logger,
		clock:  set.Clock,
		tel:    tel,
		srv:    httpserver.New(&cfg.Config, "http source", set.Logger),
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

// Provision implements pipeline.Provisioner: it
// reads the TLS files, so that a missing certificate is reported before
// Run, by `sluice validate` too. It binds nothing. Run provisions a
// source that was not provisioned. Not safe to call concurrently with Run.
func (s *Source) Provision(ctx context.Context) error {
	return s.srv.Provision(ctx)
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
	ln, err := s.srv.Listen(ctx)
	if err != nil {
		return fmt.Errorf("run http source: %w", err)
	}
	s.addr = ln.Addr()
	close(s.ready)
	s.logStart(ctx)
	return s.srv.Serve(ctx, ln, s.tel.instrument(s.newHandler(host)))
}

func (s *Source) logStart(ctx context.Context) {
	scheme := "http"
	if s.cfg.TLSEnabled() {
		scheme = "https"
	}
	s.logger.InfoContext(ctx, "http source listening", slog.String("addr", s.addr.String()),
		slog.String("url", scheme+"://"+s.addr.String()+s.cfg.Path), slog.Bool("auth", s.srv.AuthRequired()),
		slog.Int("max_connections", s.cfg.MaxConnections), slog.String("max_inflight_bytes", s.cfg.MaxInflightBytes.String()))
	if s.cfg.Loopback() {
		return
	}
	switch {
	case !s.srv.AuthRequired():
		s.logger.WarnContext(ctx, "http source accepts events from the network without a token", slog.String("listen", s.cfg.Listen))
	case !s.cfg.TLSEnabled():
		s.logger.WarnContext(ctx, "http source receives its bearer token over the network without TLS", slog.String("listen", s.cfg.Listen))
	}
}
