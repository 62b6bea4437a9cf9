package vessink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/partial"
)

const (
	// maxAnswer bounds how much of an answer is read (to parse a
	// commandList or an exception, and to reuse the connection).
	maxAnswer = 64 << 10

	endpointSingle = "event"
	endpointBatch  = "batch"
)

// newClient builds the HTTP client. The per-request timeout is applied
// through the request context, so that it covers reading the answer and
// can be told apart from the caller's cancellation. Redirects are not
// followed: a 3xx is a permanent failure naming the problem.
func newClient(cfg *Config) (*http.Client, error) {
	tr := &http.Transport{
		DialContext:            (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           2,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    cfg.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if tc, err := cfg.TLS.Client(); err != nil {
		return nil, err
	} else if u, _ := url.Parse(cfg.URL); u != nil && u.Scheme == "https" {
		tr.TLSClientConfig = tc
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}

// bisector sends the chunks of one Deliver call through httpclient.Bisect:
// when the collector refuses a request of several events permanently with
// a status that can be about its content (see httpclient.Bisectable), each
// half is sent in turn, recursively, until the refused events stand alone.
type bisector struct {
	s    *sink
	c    *http.Client
	auth pipeline.Secret
	// out collects each event's outcome, by index in the Deliver batch.
	out *partial.Outcomes
	// fatal is set when the collector refused the credentials (401, 403).
	fatal error
}

// send delivers items with httpclient.Bisect, recording refusals and, on
// a transient failure, the items of the chunk not taken yet.
func (b *bisector) send(ctx context.Context, items []item) {
	done := make(map[int]bool, len(items))
	err := httpclient.Bisect(ctx, items, httpclient.Bisection[item]{
		Send: func(ctx context.Context, items []item) error {
			if err := b.s.post(ctx, b.c, b.auth, items); err != nil {
				return err
			}
			b.out.Took()
			for _, it := range items {
				done[it.index] = true
			}
			b.s.tel.event(ctx, items[0].domain, outcomeSent, len(items))
			return nil
		},
		Splittable: func(err error) bool {
			se, ok := errors.AsType[*StatusError](err)
			return ok && httpclient.Bisectable(se.StatusCode)
		},
		Refuse: func(items []item, err error) error {
			for _, it := range items {
				b.out.Refused(it.index, err)
				done[it.index] = true
			}
			b.s.tel.event(ctx, items[0].domain, outcomeRefused, len(items))
			if se, ok := errors.AsType[*StatusError](err); ok && (se.StatusCode == http.StatusUnauthorized || se.StatusCode == http.StatusForbidden) {
				b.fatal = err
				return err
			}
			return nil
		},
		Split: func(items []item, err error) {
			b.s.log.InfoContext(ctx, "ves collector refused a batch; bisecting to isolate the refused events",
				slog.Int("events", len(items)), slog.String("error", err.Error()))
		},
	})
	if err == nil {
		return
	}
	var rest []int
	for _, it := range items {
		if !done[it.index] {
			rest = append(rest, it.index)
		}
	}
	se, answered := errors.AsType[*StatusError](err)
	b.out.Failed(ctx, err, !answered || se.StatusCode == http.StatusTooManyRequests, rest...)
}

// post sends one request and classifies the outcome: nil when the
// collector took it, a pipeline.Permanent error wrapping *StatusError
// when it refused it, and a transient error otherwise. When ctx ends, the
// error wraps ctx.Err().
func (s *sink) post(ctx context.Context, c *http.Client, auth pipeline.Secret, items []item) error {
	endpoint, target := endpointSingle, s.singleURL
	if len(items) > 1 {
		endpoint, target = endpointBatch, s.batchURL
	}
	if s.closed.Load() {
		return fmt.Errorf("POST %s: %w", target, ErrNotStarted)
	}
	body := requestBody(items)
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	rctx, span := s.tel.tracer.Start(rctx, "POST", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.spanAttrs...),
		trace.WithAttributes(semconv.URLFull(target), attribute.Int("sluice.events", len(items)), attribute.String("ves.domain", items[0].domain)))
	defer span.End()

	req, err := http.NewRequestWithContext(rctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return pipeline.Permanent(fmt.Errorf("POST %s: new request: %w", target, err))
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("User-Agent", httpclient.UserAgent())
	if a := auth.Reveal(); a != "" {
		h.Set("Authorization", a)
	}
	propagation.TraceContext{}.Inject(rctx, propagation.HeaderCarrier(h))

	start := s.clock.Now()
	resp, err := c.Do(req)
	if err != nil {
		s.tel.request(ctx, endpoint, 0, s.clock.Now().Sub(start).Seconds())
		err = s.transportError(ctx, rctx, target, err)
		span.RecordError(err)
		span.SetStatus(codes.Error, "request failed")
		return err
	}
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	_ = resp.Body.Close()
	s.tel.request(ctx, endpoint, resp.StatusCode, s.clock.Now().Sub(start).Seconds())
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))

	class := Classify(resp.StatusCode)
	if class == Delivered {
		if readErr == nil {
			s.applyCommands(ctx, answer)
		}
		return nil
	}
	// A collector echoing the request must not put the sink's own
	// credentials into the dead letter or the log.
	answer = httpclient.NewRedactor(auth).Redact(answer)
	serr := &StatusError{StatusCode: resp.StatusCode}
	if id, text, ok := parseRequestError(answer); ok {
		serr.MessageID, serr.Text = id, text
	} else {
		serr.Body = sanitizeSnippet(answer)
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
	span.SetStatus(codes.Error, "status "+strconv.Itoa(resp.StatusCode))
	err = fmt.Errorf("POST %s: %w", target, serr)
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		s.log.ErrorContext(ctx, "VES COLLECTOR REFUSED THE CREDENTIALS: the events are dead-lettered (redrive them once fixed); check username, password or password_file, and tls.cert_file",
			slog.String("url", target), slog.Int("status", resp.StatusCode), slog.String("error", serr.Error()))
	}
	if class == Permanent {
		return pipeline.Permanent(err)
	}
	return err
}

// applyCommands acts on the commandList of a successful answer.
func (s *sink) applyCommands(ctx context.Context, answer []byte) {
	interval, others, err := parseCommandList(answer)
	if err != nil {
		s.log.WarnContext(ctx, "ves collector sent an invalid command; ignored", slog.String("error", err.Error()))
	}
	if len(others) > 0 {
		s.log.DebugContext(ctx, "ves collector commands not supported; ignored", slog.Any("commands", others))
	}
	if interval == 0 {
		return
	}
	b := s.m.beats
	old := b.current()
	if interval == old {
		return
	}
	b.commanded.Store(int64(interval))
	b.reset() // intervals of the old length mean nothing now
	s.tel.heartbeat.Record(ctx, int64(interval/time.Second), metricAttrs(s.tel))
	s.log.InfoContext(ctx, "ves collector changed the heartbeat interval", slog.Duration("from", old), slog.Duration("to", interval))
}

// transportError explains a request that got no answer. Network errors
// and timeouts are transient; so is a failed certificate verification,
// which is logged with a hint because only the operator can fix it.
func (s *sink) transportError(ctx, rctx context.Context, target string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("POST %s: %w", target, ctx.Err())
	}
	if httpclient.TimedOut(rctx, err) {
		return fmt.Errorf("POST %s: %w: no complete answer within %s", target, ErrTimeout, s.cfg.Timeout)
	}
	err = httpclient.UnwrapURLError(err)
	if tlsconfig.IsVerificationError(err) {
		s.log.WarnContext(ctx, "ves sink cannot verify the collector's certificate; check tls.ca_file and tls.server_name",
			slog.String("url", target), slog.String("error", err.Error()))
		return fmt.Errorf("POST %s: verify server certificate (check tls.ca_file and tls.server_name): %w", target, err)
	}
	return fmt.Errorf("POST %s: %w", target, err)
}

func metricAttrs(t *telemetry) metric.MeasurementOption { return metric.WithAttributes(t.sink) }
