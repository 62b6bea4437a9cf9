package httpsink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

const (
	contentTypeStructured = "application/cloudevents+json"
	contentTypeBatch      = "application/cloudevents-batch+json"
)

// request is one HTTP request of a Deliver call.
type request struct {
	body []byte
	// key is the Idempotency-Key, before sf-string quoting.
	key    string
	events int
}

// send sends one request and classifies the outcome: nil when the peer
// took it, a pipeline.Permanent error wrapping *StatusError when it
// refused it, and a transient error otherwise (other statuses, network
// errors, ErrTimeout). When ctx ends, the error wraps ctx.Err().
func (s *sink) send(ctx context.Context, c *http.Client, r request) error {
	if s.closed.Load() {
		return fmt.Errorf("%s %s: %w", s.cfg.Method, s.target, ErrNotStarted)
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	rctx, span := s.tel.tracer.Start(rctx, s.cfg.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.spanAttrs...), trace.WithAttributes(attribute.Int("sluice.events", r.events)))
	defer span.End()

	req, err := http.NewRequestWithContext(rctx, s.cfg.Method, s.cfg.URL, bytes.NewReader(r.body))
	if err != nil {
		return pipeline.Permanent(fmt.Errorf("%s %s: new request: %w", s.cfg.Method, s.target, err))
	}
	s.setHeaders(rctx, req, r)

	start := s.clock.Now()
	resp, err := c.Do(req)
	if err != nil {
		s.tel.record(ctx, 0, len(r.body), s.clock.Now().Sub(start).Seconds())
		err = s.transportError(ctx, rctx, err)
		span.RecordError(err)
		span.SetStatus(codes.Error, "request failed")
		return err
	}
	snippet, retryAfter, location := s.readAnswer(resp)
	s.tel.record(ctx, resp.StatusCode, len(r.body), s.clock.Now().Sub(start).Seconds())
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))

	class := Classify(resp.StatusCode)
	if class == Delivered {
		return nil
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
	span.SetStatus(codes.Error, "status "+strconv.Itoa(resp.StatusCode))
	serr := &StatusError{StatusCode: resp.StatusCode, Body: snippet, RetryAfter: retryAfter, Location: location}
	err = fmt.Errorf("%s %s: %w", s.cfg.Method, s.target, serr)
	if class == Permanent {
		return pipeline.Permanent(err)
	}
	return err
}

// setHeaders sets the configured headers, then the sink's own.
func (s *sink) setHeaders(ctx context.Context, req *http.Request, r request) {
	h := req.Header
	h.Set("User-Agent", httpclient.UserAgent())
	for k, v := range s.headers {
		h[k] = v
	}
	if s.cfg.Mode == ModeBatch {
		h.Set("Content-Type", contentTypeBatch)
	} else {
		h.Set("Content-Type", contentTypeStructured)
	}
	h.Set("Idempotency-Key", sfString(r.key))
	if a := s.auth.Reveal(); a != "" {
		h.Set("Authorization", a)
	}
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
}

// readAnswer reads the start of the body (for the error message) and
// drains a bounded amount so that the connection can be reused, then
// closes it. Read errors are ignored: the status decides the outcome.
func (s *sink) readAnswer(resp *http.Response) (snippet string, retryAfter time.Duration, location string) {
	failed := Classify(resp.StatusCode) != Delivered
	if failed {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.clock.Now())
		if l, err := resp.Location(); err == nil {
			location = redactURL(l)
		}
	}
	return s.redactor.ReadAnswer(resp, failed), retryAfter, location
}

// transportError explains a request that got no answer. Network errors
// and timeouts are transient; so is a failed certificate verification,
// which is logged with a hint because only the operator can fix it.
func (s *sink) transportError(ctx, rctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", s.cfg.Method, s.target, ctx.Err())
	}
	if httpclient.TimedOut(rctx, err) {
		return fmt.Errorf("%s %s: %w: no complete answer within %s", s.cfg.Method, s.target, ErrTimeout, s.cfg.Timeout)
	}
	// url.Error repeats the URL with its query, which may hold a secret.
	err = httpclient.UnwrapURLError(err)
	if tlsconfig.IsVerificationError(err) {
		s.logger.WarnContext(ctx, "http sink cannot verify the server certificate; check tls.ca_file and tls.server_name",
			slog.String("url", s.target), slog.String("error", err.Error()))
		return fmt.Errorf("%s %s: verify server certificate (check tls.ca_file and tls.server_name): %w", s.cfg.Method, s.target, err)
	}
	return fmt.Errorf("%s %s: %w", s.cfg.Method, s.target, err)
}

// sfString formats an idempotency key as the draft's Idempotency-Key
// value, an RFC 8941 sf-string: printable ASCII in quotes, with " and \
// escaped. A key with other characters is replaced by its hex SHA-256
// prefix, so that it still identifies the delivery.
func sfString(key string) string {
	for i := range len(key) {
		if c := key[i]; c < ' ' || c > '~' {
			sum := sha256.Sum256([]byte(key))
			return `"` + hex.EncodeToString(sum[:16]) + `"`
		}
	}
	if !strings.ContainsAny(key, `"\`) {
		return `"` + key + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(key) {
		if key[i] == '"' || key[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(key[i])
	}
	b.WriteByte('"')
	return b.String()
}

// redactURL returns u without user info, query and fragment, for logs,
// spans and errors.
func redactURL(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}
