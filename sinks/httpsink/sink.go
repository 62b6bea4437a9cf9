package httpsink

import (
	"context"
	"errors"
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
	"github.com/sluice-dev/sluice/sinks/internal/partial"
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

	mu     sync.Mutex
	client *http.Client
	auth   pipeline.Secret
	// redactor removes auth and the header values from stored answers.
	redactor *httpclient.Redactor
	started  bool
	closed   atomic.Bool
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
	client.Transport = s.tel.transport(client.Transport)
	if s.cfg.TLS.InsecureSkipVerify {
		s.logger.WarnContext(ctx, "TLS CERTIFICATE VERIFICATION IS DISABLED (tls.insecure_skip_verify): anyone on the path can read and change the events; use tls.ca_file instead",
			slog.String("url", s.target))
	}
	if len(s.cfg.Headers) > 0 && s.targetURL.Scheme == "http" && !httpclient.IsLoopbackHost(s.targetURL.Hostname()) {
		s.logger.WarnContext(ctx, "http sink sends its configured headers (secrets) in clear over plain http; use an https url",
			slog.String("url", s.target), slog.Int("headers", len(s.cfg.Headers)))
	}
	secrets := []pipeline.Secret{auth}
	for _, v := range s.cfg.Headers {
		secrets = append(secrets, v)
	}
	s.client, s.auth, s.started = client, auth, true
	s.redactor = httpclient.NewRedactor(secrets...)
	s.logger.InfoContext(ctx, "http sink started", slog.String("url", s.target), slog.String("mode", string(s.cfg.Mode)))
	return nil
}

// Deliver sends the batch in order: one request per event in structured
// mode, arrays of at most max_events and max_bytes in batch mode. It
// returns nil when every event was taken, and otherwise reports each
// event's outcome: a *pipeline.BatchError lists exactly the events that
// were refused (permanent) or whose request failed transiently, so the
// runner retries only those (the Idempotency-Key lets the peer drop a
// repeat) and never the events that were taken. With ordering "strict"
// (the default) a transient failure stops the batch there (the rest fail
// with that error), so events reach the peer in journal order. With
// "relaxed" it goes on with the next request while the peer answers, and
// stops when a request got no answer,
// the peer asked to wait (429, Retry-After), ctx ended, or
// partial.MaxStreak requests in a row failed. A batch of one gets its
// error itself, and a batch of which nothing was taken or refused gets
// its first transient error.
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
	out := partial.Outcomes{Ordered: s.cfg.Ordering.Ordered()}
	if s.cfg.Mode == ModeBatch {
		s.deliverBatches(ctx, client, batch, enc, &out)
	} else {
		s.deliverEach(ctx, client, batch, enc, &out)
	}
	return out.Err(len(batch))
}

// deliverEach sends one structured request per event. A permanent
// refusal fails that event only; a transient failure fails it and,
// when it stops sending, every later one.
func (s *sink) deliverEach(ctx context.Context, c *http.Client, batch []pipeline.Delivery, enc *encoded, out *partial.Outcomes) {
	for i := range batch {
		if out.Stopped() != nil {
			out.Unsent(i)
			continue
		}
		err := enc.bad[i]
		if err == nil {
			err = s.send(ctx, c, request{body: enc.event(i), key: batch[i].Key, events: 1})
		}
		switch {
		case err == nil:
			out.Took()
		case pipeline.IsPermanent(err):
			s.logger.DebugContext(ctx, "http sink event refused", slog.Uint64("seq", batch[i].Event.Sequence), slog.String("error", err.Error()))
			out.Refused(i, err)
		default:
			out.Failed(ctx, err, haltAfter(err), i)
		}
	}
}

// haltAfter reports whether a transient failure should stop the rest of
// the batch: the request got no answer (the peer may be down), or the
// peer asked to wait (429, or a Retry-After).
func haltAfter(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return true
	}
	return se.StatusCode == http.StatusTooManyRequests || se.RetryAfter > 0
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
