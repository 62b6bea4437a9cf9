package hostpluginsink

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// sink reports observations to one HealthService. Deliver is called by
// one goroutine at a time; Close may race with it, so the client is
// guarded by mu.
type sink struct {
	id      string
	cfg     Config
	logger  *slog.Logger
	clock   pipeline.Clock
	tel     *telemetry
	mapping *mapping
	// url is the request URL; host is the Host header (without :80, as
	// Python's http.client writes it).
	url, host string
	// dialAddr, when set (tests), is dialed instead of the endpoint.
	dialAddr string

	// channels is used by Deliver only.
	channels *channels

	mu      sync.Mutex
	client  *http.Client
	started bool
	closed  atomic.Bool
}

var _ pipeline.Sink = (*sink)(nil)

func newSink(ctx context.Context, set pipeline.Settings, cfg *Config) (*sink, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("hostplugin sink telemetry: %w", err)
	}
	m, err := compileMapping(cfg)
	if err != nil {
		return nil, fmt.Errorf("hostplugin sink: %w", err)
	}
	host, port, err := splitEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("hostplugin sink: endpoint: %w", err)
	}
	hostPort := net.JoinHostPort(host, strconv.Itoa(port))
	s := &sink{
		id:       set.ID,
		cfg:      *cfg,
		logger:   set.Logger,
		clock:    set.Clock,
		tel:      tel,
		mapping:  m,
		url:      "http://" + hostPort + "/HealthService",
		host:     hostPort,
		channels: newChannels(ctx, set.State, set.Logger),
	}
	if port == 80 {
		s.host = host
		if net.ParseIP(host) != nil && net.ParseIP(host).To4() == nil {
			s.host = "[" + host + "]"
		}
	}
	return s, nil
}

// Start builds the HTTP client. It does not contact the endpoint: an
// unreachable endpoint is a delivery error, retried.
func (s *sink) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed.Load() {
		return fmt.Errorf("start hostplugin sink %s: already started or closed", s.url)
	}
	s.client = s.newClient()
	s.client.Transport = s.tel.transport(s.client.Transport)
	s.started = true
	s.logger.InfoContext(ctx, "hostplugin sink started", slog.String("url", s.url), slog.String("source", s.cfg.Source))
	return nil
}

// newClient returns a client like WALinuxAgent's connection: no proxy,
// one connection per request (Connection: close), no redirects, no
// compression.
func (s *sink) newClient() *http.Client {
	dialer := &net.Dialer{Timeout: s.cfg.Timeout}
	dial := dialer.DialContext
	if s.dialAddr != "" {
		addr := s.dialAddr
		dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Deliver maps every event to an observation, runs each observation's
// error state and report period in event time, and POSTs, in journal
// order, the newest due report of each observation of the batch, one
// observation per POST as WALinuxAgent does.
//
// It returns nil when every report was taken (or was not due), a
// transient error as soon as a POST fails transiently (the runner
// retries the batch; observations already sent are then not due and are
// not sent twice), and a *pipeline.BatchError for events that could not
// be mapped and reports the HealthService refused (a batch of one gets
// the permanent error itself).
func (s *sink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	client := s.client
	s.mu.Unlock()
	if client == nil || s.closed.Load() {
		return fmt.Errorf("deliver to %s: %w", s.url, ErrNotStarted)
	}
	plan, failed := s.plan(ctx, batch)
	for i := range plan {
		p := &plan[i]
		if p.report == nil {
			s.channels.put(p.name, p.state)
			continue
		}
		err := s.post(ctx, client, p)
		switch {
		case err == nil:
			p.state.posted, p.state.postedHealthy = true, p.report.IsHealthy
		case pipeline.IsPermanent(err):
			failed = append(failed, pipeline.DeliveryFailure{Index: p.index, Err: err})
		default:
			// Neither this channel nor the later ones advance: the
			// runner delivers the batch again.
			return err
		}
		s.channels.put(p.name, p.state)
	}
	switch {
	case len(failed) == 0:
		return nil
	case len(batch) == 1:
		return failed[0].Err
	}
	slices.SortFunc(failed, func(a, b pipeline.DeliveryFailure) int { return a.Index - b.Index })
	return &pipeline.BatchError{Failed: failed}
}

// Close closes idle connections. It is idempotent and safe without
// Start.
func (s *sink) Close(context.Context) error {
	s.closed.Store(true)
	s.mu.Lock()
	client := s.client
	s.client = nil
	s.mu.Unlock()
	if client != nil {
		client.CloseIdleConnections()
	}
	return nil
}

// eventTime is the time an event observed its result: its own time, or
// now for an event without one.
func (s *sink) eventTime(e *pipeline.Event) time.Time {
	if e.Time.IsZero() {
		return s.clock.Now()
	}
	return e.Time
}
