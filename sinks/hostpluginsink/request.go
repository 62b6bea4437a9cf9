package hostpluginsink

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

// body is the HealthService request body of a planned report.
func (s *sink) body(p *planned) []byte {
	return AppendBody(make([]byte, 0, 256), s.cfg.Source, *p.report)
}

// post sends one planned report and classifies the answer: nil when the
// HealthService took it, a pipeline.Permanent error wrapping
// *StatusError when it refused it, and a transient error otherwise
// (*StatusError, or *NetworkError when no answer came back). When ctx
// ends, the error wraps ctx.Err().
func (s *sink) post(ctx context.Context, c *http.Client, p *planned) error {
	body := s.body(p)
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	rctx, span := s.tel.tracer.Start(rctx, "POST /HealthService", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			semconv.HTTPRequestMethodPost, semconv.URLFull(s.url), semconv.ServerAddress(s.host),
			attribute.String("sluice.sink", s.id),
			attribute.String("sluice.hostplugin.observation", p.report.Name),
			attribute.Bool("sluice.hostplugin.healthy", p.report.IsHealthy)))
	defer span.End()

	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return pipeline.Permanent(fmt.Errorf("POST %s: new request: %w", s.url, err))
	}
	// The headers WALinuxAgent's request carries (http.client adds Host
	// and Accept-Encoding, restutil Connection and User-Agent); no trace
	// context, so the request matches the agent's.
	req.Host = s.host
	req.Close = true
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "identity")
	if s.cfg.UserAgent == "" {
		req.Header["User-Agent"] = nil // no User-Agent at all
	} else {
		req.Header.Set("User-Agent", s.cfg.UserAgent)
	}

	start := s.clock.Now()
	resp, err := c.Do(req)
	if err != nil {
		err = s.transportError(ctx, rctx, err)
		s.tel.request(ctx, 0, Transient, OriginNetwork, s.clock.Now().Sub(start).Seconds())
		span.RecordError(err)
		span.SetAttributes(attribute.String("sluice.hostplugin.origin", string(OriginNetwork)))
		span.SetStatus(codes.Error, "no answer")
		return err
	}
	class := Classify(resp.StatusCode, s.cfg.RetryStatuses)
	snippet := httpclient.ReadAnswer(resp, class != Delivered)
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if class == Delivered {
		s.tel.request(ctx, resp.StatusCode, class, "", s.clock.Now().Sub(start).Seconds())
		s.reported(ctx, p)
		return nil
	}
	origin := OriginOf(resp.StatusCode, snippet)
	s.tel.request(ctx, resp.StatusCode, class, origin, s.clock.Now().Sub(start).Seconds())
	span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)),
		attribute.String("sluice.hostplugin.origin", string(origin)))
	span.SetStatus(codes.Error, "status "+strconv.Itoa(resp.StatusCode))
	err = fmt.Errorf("POST %s: %s: %w", s.url, p.report.Name, &StatusError{StatusCode: resp.StatusCode, Origin: origin, Body: snippet})
	if class == Permanent {
		return pipeline.Permanent(err)
	}
	return err
}

// reported logs and counts a report the HealthService took. A channel
// turning unhealthy is a warning, as WALinuxAgent's HealthObservation
// telemetry event is.
func (s *sink) reported(ctx context.Context, p *planned) {
	healthy := p.report.IsHealthy
	s.tel.observation(ctx, p.metricName(), outcomeReported, &healthy, 1)
	was := p.state
	switch {
	case !healthy && (!was.posted || was.postedHealthy):
		s.logger.WarnContext(ctx, "hostplugin observation reported unhealthy",
			slog.String("observation", p.report.Name), slog.Duration("failing_for", p.failingFor),
			slog.Duration("error_state", p.errorState), slog.String("value", p.report.Value))
	case healthy && was.posted && !was.postedHealthy:
		s.logger.InfoContext(ctx, "hostplugin observation reported healthy again", slog.String("observation", p.report.Name))
	case healthy && !p.current:
		s.logger.DebugContext(ctx, "hostplugin observation failing, reported healthy until the error state is reached",
			slog.String("observation", p.report.Name), slog.Duration("failing_for", p.failingFor),
			slog.Duration("error_state", p.errorState))
	}
}

// transportError explains a request that got no answer: a NetworkError
// (transient), or the caller's ctx.Err().
func (s *sink) transportError(ctx, rctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("POST %s: %w", s.url, ctx.Err())
	}
	if rctx.Err() != nil {
		return fmt.Errorf("POST %s: %w", s.url, &NetworkError{Err: fmt.Errorf("%w: no complete answer within %s", ErrTimeout, s.cfg.Timeout)})
	}
	return fmt.Errorf("POST %s: %w", s.url, &NetworkError{Err: httpclient.UnwrapURLError(err)})
}
