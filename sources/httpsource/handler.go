package httpsource

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/pipeline"
)

// handler answers CloudEvents requests on one path, emitting each
// request's events with one Emit, so a request is one atomic append. The
// server srv tracks it in flight, checks tokens and bounds bodies.
type handler struct {
	cfg    *Config
	host   pipeline.SourceHost
	srv    *httpserver.Server
	tel    *telemetry
	logger *slog.Logger
	clock  pipeline.Clock
	json   *jsonDecoder // format: json; nil for CloudEvents
}

var _ http.Handler = (*handler)(nil)

// ServeHTTP implements http.Handler: one span, one log line and one
// measurement per request around handle.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.clock.Now()
	ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := h.tel.tracer.Start(ctx, h.spanName(r), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
	defer span.End()

	var res response
	if h.srv.Enter() {
		res = h.handle(ctx, w, r)
		h.srv.Leave()
	} else {
		res = unavailable(retryAfterShutdown, errShuttingDown, "shutting down")
	}
	res.write(w)

	elapsed := h.clock.Now().Sub(start).Seconds()
	h.tel.record(ctx, res.events)
	span.SetAttributes(attribute.Int("http.response.status_code", res.status), attribute.Int("sluice.events", res.events))
	level := slog.LevelDebug
	attrs := []slog.Attr{
		slog.Int("status", res.status), slog.Int("events", res.events),
		slog.Float64("seconds", elapsed), slog.String("remote", r.RemoteAddr),
	}
	switch {
	case res.status >= 500:
		span.SetStatus(codes.Error, http.StatusText(res.status))
		if res.err != nil {
			span.RecordError(res.err)
			attrs = append(attrs, slog.String("error", res.err.Error()))
		}
		level = slog.LevelWarn
	case res.status >= 400:
		if b, ok := res.body.(errorBody); ok {
			attrs = append(attrs, slog.String("reason", b.Error))
		}
	}
	h.logger.LogAttrs(ctx, level, "http source request", attrs...)
}

// spanName follows the OpenTelemetry HTTP convention, "{method} {route}",
// without letting clients choose span names: other paths and methods are
// named "HTTP".
func (h *handler) spanName(r *http.Request) string {
	if r.Method == http.MethodPost && r.URL.Path == h.cfg.Path {
		return "POST " + h.cfg.Path
	}
	return "HTTP"
}

var errShuttingDown = errors.New("source shutting down")

// handle checks and decodes one request and emits its events.
func (h *handler) handle(ctx context.Context, w http.ResponseWriter, r *http.Request) response {
	if err := h.srv.CheckSite(r); err != nil {
		return failure(http.StatusForbidden, "%v", err)
	}
	if r.URL.Path != h.cfg.Path {
		return failure(http.StatusNotFound, "not found: events are accepted at %s", h.cfg.Path)
	}
	if r.Method != http.MethodPost {
		return failure(http.StatusMethodNotAllowed, "method %s not allowed: use POST", r.Method).withHeader("Allow", http.MethodPost)
	}
	if err := h.srv.Authorize(r.Header); err != nil {
		return failure(http.StatusUnauthorized, "%v", err).withHeader("WWW-Authenticate", httpserver.Challenge(err))
	}
	body, err := h.srv.Body(w, r)
	if err != nil {
		return bodyFailure(err)
	}
	defer func() { _ = body.Close() }() // after the append: the events hold the body's bytes
	events, res := h.decode(r.Header, body, r.ContentLength)
	if res != nil {
		return *res
	}
	if len(events) == 0 {
		return accepted(0)
	}
	if tp := traceParent(ctx); tp != "" {
		for i := range events {
			if events[i].TraceParent == "" {
				events[i].TraceParent = tp
			}
		}
	}
	res2 := h.emit(ctx, events)
	res2.events = len(events)
	return res2
}

// emit appends the events and maps the outcome to the answer: 202 only
// after a durable append, 503 when the journal refuses for now.
func (h *handler) emit(ctx context.Context, events []pipeline.Event) response {
	_, err := h.host.Emit(ctx, events)
	switch {
	case err == nil:
		return accepted(len(events))
	case errors.Is(err, pipeline.ErrJournalFull):
		return unavailable(retryAfterFull, err, "journal full: events not accepted, retry later")
	case errors.Is(err, pipeline.ErrJournalUnavailable):
		return unavailable(retryAfterShutdown, err, "journal unavailable: events not accepted, retry later")
	case errors.Is(err, pipeline.ErrJournalClosed):
		return unavailable(retryAfterShutdown, err, "journal closed: events not accepted, retry later")
	case isClosed(h.srv.Abandoned()):
		return unavailable(retryAfterShutdown, err, "shutting down: events not accepted, retry later")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client went away; nobody reads this answer.
		return unavailable(retryAfterShutdown, err, "request cancelled: events not accepted")
	default:
		r := failure(http.StatusInternalServerError, "internal error: events not accepted")
		r.err = err
		return r
	}
}

// traceParent renders ctx's span as a W3C traceparent, or "" if it has no
// valid span context (no tracing and no incoming traceparent header).
func traceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c.Get("traceparent")
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// bodyFailure answers an error of opening or reading the body: 413 over
// max_body_bytes, 503 beyond max_inflight_bytes, 400 otherwise.
func bodyFailure(err error) response {
	switch {
	case errors.Is(err, httpserver.ErrTooLarge):
		return failure(http.StatusRequestEntityTooLarge, "%v", err)
	case errors.Is(err, httpserver.ErrBusy):
		return unavailable(httpserver.RetryAfterBusy, err, "too many request bytes in flight: events not accepted, retry later")
	}
	return failure(http.StatusBadRequest, "read request body: %v", err)
}

// newHandler returns the handler of requests emitting to host (for tests
// that call it without Run).
func (s *Source) newHandler(host pipeline.SourceHost) *handler {
	return &handler{cfg: &s.cfg, host: host, srv: s.srv, tel: s.tel, logger: s.logger, clock: s.clock, json: s.json}
}
