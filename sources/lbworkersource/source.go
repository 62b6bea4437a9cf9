package lbworkersource

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/pipeline"
)

// Source is the lbworker source. Addr reports the HTTP transport's bound
// address once Run has started listening.
type Source struct {
	name  string
	cfg   *Config
	log   *slog.Logger
	clock pipeline.Clock
	tel   *telemetry
	addr  atomic.Pointer[net.Addr]
	// srv is the HTTP transport's server (internal/httpserver), nil when
	// HTTP is off.
	srv *httpserver.Server
}

// source is a running Source: what Run hands to the transports.
type source struct {
	*Source
	host   pipeline.SourceHost
	dedupe *dedupe
	// watcher reports deliveries to the reply_after sinks (nil without).
	watcher pipeline.DeliveryWatcher
	lbs     *lbTracker
}

var (
	_ pipeline.Source      = (*Source)(nil)
	_ pipeline.Provisioner = (*Source)(nil)
)

func newSource(set pipeline.Settings, cfg *Config) (*Source, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("lbworker telemetry: %w", err)
	}
	c := *cfg
	if c.Gearman.Function == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("lbworker: gearman.function is empty and the host name is unknown: %w", err)
		}
		c.Gearman.Function = host
	}
	if c.Gearman.ClientID == "" {
		c.Gearman.ClientID = c.Gearman.Function
	}
	s := &Source{name: set.ID, cfg: &c, log: set.Logger, clock: set.Clock, tel: tel}
	if c.HTTP.Enabled {
		srvCfg := c.serverConfig()
		s.srv = httpserver.New(&srvCfg, "lbworker http", set.Logger)
	}
	return s, nil
}

// Provision implements pipeline.Provisioner: it reads the HTTP
// transport's TLS files, so that a missing certificate is reported before
// Run (and by sluice validate). It binds nothing.
func (s *Source) Provision(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Provision(ctx); err != nil {
		return fmt.Errorf("lbworker http: %w", err)
	}
	return nil
}

// Run implements pipeline.Source: it loads the remembered replies from the
// source's state, then serves every configured transport until ctx ends.
func (s *Source) Run(ctx context.Context, host pipeline.SourceHost) error {
	state, err := host.State(ctx)
	if err != nil {
		return fmt.Errorf("lbworker: load state: %w", err)
	}
	run := &source{Source: s, host: host, dedupe: newDedupe(s.cfg.DedupeWindow), lbs: newLBTracker()}
	run.dedupe.load(state)
	run.lbs.load(state)
	if err := run.checkReplyAfter(); err != nil {
		return err
	}
	var httpLn net.Listener
	if s.srv != nil {
		httpLn, err = s.srv.Listen(ctx)
		if err != nil {
			return fmt.Errorf("lbworker: listen %s: %w", s.cfg.HTTP.Listen, err)
		}
		s.setAddr(httpLn.Addr())
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, addr := range s.cfg.Gearman.Servers {
		for range s.cfg.Gearman.Workers {
			w := &gearmanWorker{
				addr: addr, function: s.cfg.Gearman.Function, clientID: s.cfg.Gearman.ClientID,
				maxJob: int(s.cfg.MaxRequestBytes), jobs: s.cfg.Gearman.JobsPerConnection, dialTO: s.cfg.Gearman.DialTimeout,
				retry: s.cfg.Gearman.Reconnect, clock: s.clock, log: s.log, shutdown: s.cfg.ShutdownTimeout,
				handle:    func(ctx context.Context, in inbound) []byte { return run.handle(ctx, in).body },
				connected: s.tel.gearmanUp,
			}
			g.Go(func() error { return w.run(gctx) })
		}
	}
	if httpLn != nil {
		g.Go(func() error { return run.serveHTTP(gctx, httpLn) })
	}
	s.log.InfoContext(ctx, "lbworker source running", slog.String("function", s.cfg.Gearman.Function),
		slog.Any("gearman", s.cfg.Gearman.Servers), slog.Bool("http", s.cfg.HTTP.Enabled))
	return g.Wait()
}

func (s *Source) setAddr(a net.Addr) { s.addr.Store(&a) }

// Addr returns the HTTP transport's listening address, nil before Run
// listens or when HTTP is off.
func (s *Source) Addr() net.Addr {
	if a := s.addr.Load(); a != nil {
		return *a
	}
	return nil
}
