package httpsink

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

// sink sends events to one URL. Deliver is called by one goroutine at a
// time; Close may race with it, so the client is guarded by mu and
// closed is checked before every request.
type sink struct {
	cfg    Config
	logger *slog.Logger
	clock  pipeline.Clock
	tel    *telemetry
	// target is the URL without query, for errors, logs and spans.
	target    string
	targetURL *url.URL
	headers   http.Header
	spanAttrs []attribute.KeyValue

	creds *httpclient.Credentials

	mu      sync.Mutex
	client  *http.Client
	auth    pipeline.Secret
	started bool
	closed  atomic.Bool
}

var _ pipeline.Sink = (*sink)(nil)

func newSink(set pipeline.Settings, cfg *Config) (*sink, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("http sink telemetry: %w", err)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err) // unreachable: Validate parsed it
	}
	s := &sink{
		cfg:       *cfg,
		logger:    set.Logger,
		clock:     set.Clock,
		tel:       tel,
		target:    redactURL(u),
		targetURL: u,
		headers:   buildHeaders(cfg.Headers),
	}
	s.spanAttrs = []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(cfg.Method),
		semconv.URLFull(s.target),
		semconv.ServerAddress(u.Hostname()),
		attribute.String("sluice.sink", set.ID),
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		s.spanAttrs = append(s.spanAttrs, semconv.ServerPort(p))
	}
	s.creds = httpclient.NewCredentials(&s.cfg.TLS, func() (pipeline.Secret, error) { return authorization(&s.cfg) })
	return s, nil
}

// Start builds the HTTP client, after Provision (which it runs first if
// nobody did). It does not contact the peer: an unreachable peer is a
// delivery error, retried, not a start error.
func (s *sink) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed.Load() {
		return fmt.Errorf("start http sink %s: already started or closed", s.target)
	}
	auth, err := s.creds.Ensure(ctx)
	if err != nil {
		return fmt.Errorf("start http sink: %w", err)
	}
	client, err := newClient(&s.cfg, s.targetURL)
	if err != nil {
		return fmt.Errorf("start http sink: %w", err)
	}
	if s.cfg.TLS.InsecureSkipVerify {
		s.logger.WarnContext(ctx, "TLS CERTIFICATE VERIFICATION IS DISABLED (tls.insecure_skip_verify): anyone on the path can read and change the events; use tls.ca_file instead",
			slog.String("url", s.target))
	}
	s.client, s.auth, s.started = client, auth, true
	s.logger.InfoContext(ctx, "http sink started", slog.String("url", s.target), slog.String("mode", string(s.cfg.Mode)))
	return nil
}

// Deliver sends the batch in order: one request per event in structured
// mode, arrays of at most max_events and max_bytes in batch mode. It
// returns nil when every event was taken, a transient error as soon as a
// request fails transiently (the runner retries the whole batch; the
// Idempotency-Key lets the peer drop what it already has), and otherwise,
// when some events were refused permanently, a *pipeline.BatchError
// listing exactly those (a batch of one gets the permanent error itself).
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
		return fmt.Errorf("deliver to %s: %w", s.target, ErrNotStarted)
	}
	enc := encode(batch)
	var failed []pipeline.DeliveryFailure
	var err error
	if s.cfg.Mode == ModeBatch {
		failed, err = s.deliverBatches(ctx, client, batch, enc)
	} else {
		failed, err = s.deliverEach(ctx, client, batch, enc)
	}
	switch {
	case err != nil:
		return err
	case len(failed) == 0:
		return nil
	case len(batch) == 1:
		return failed[0].Err
	}
	return &pipeline.BatchError{Failed: failed}
}

// deliverEach sends one structured request per event. A permanent
// refusal fails that event only; a transient error stops at once.
func (s *sink) deliverEach(ctx context.Context, c *http.Client, batch []pipeline.Delivery, enc *encoded) ([]pipeline.DeliveryFailure, error) {
	var failed []pipeline.DeliveryFailure
	for i := range batch {
		err := enc.bad[i]
		if err == nil {
			err = s.send(ctx, c, request{body: enc.event(i), key: batch[i].Key, events: 1})
		}
		if err == nil {
			continue
		}
		if !pipeline.IsPermanent(err) {
			return nil, err
		}
		s.logger.DebugContext(ctx, "http sink event refused", slog.Uint64("seq", batch[i].Event.Sequence), slog.String("error", err.Error()))
		failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: err})
	}
	return failed, nil
}

// Close closes idle connections; connections still in use by a Deliver
// racing with Close are closed when they become idle, since no request
// starts after Close. It is idempotent and safe without Start.
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
