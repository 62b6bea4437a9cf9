package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/cenkalti/backoff/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// errStopping is returned by a delivery abandoned because the pipeline is
// shutting down; the batch stays unacknowledged and is delivered after the
// next start.
var errStopping = errors.New("pipeline stopping")

// sinkRunner owns one sink: its routes, retry policy and delivery loop.
type sinkRunner struct {
	name   string
	sink   Sink
	routes *sinkRoutes
	retry  RetryConfig
	batch  BatchConfig
	log    *slog.Logger
	clock  Clock
	tel    *telemetry
	attrs  metric.MeasurementOption

	backoff *backoff.ExponentialBackOff
	// next is the next sequence the sink has not yet handled, for lag.
	next atomic.Uint64
}

// deliver hands batch to the sink, retrying transient failures with
// backoff until it succeeds, the retry policy gives up, or stopping is
// closed. It returns nil when the batch is handled (delivered or given up
// on) and an error when it must be delivered again after a restart.
func (s *sinkRunner) deliver(ctx context.Context, stopping <-chan struct{}, batch []Delivery) error {
	var firstErr error
	firstAt := s.clock.Now()
	for attempt := 1; ; attempt++ {
		start := s.clock.Now()
		err := s.attempt(ctx, batch, attempt)
		if err == nil {
			s.backoff.Reset()
			s.tel.sinkDelivered.Add(ctx, int64(len(batch)), s.attrs)
			s.tel.sinkDuration.Record(ctx, sinceSeconds(s.clock, start), s.attrs)
			if attempt > 1 {
				s.log.Info("delivery recovered", slog.Int("attempts", attempt), slog.Duration("after", s.clock.Now().Sub(firstAt)))
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if firstErr == nil {
			firstErr = err
		}
		permanent := IsPermanent(err)
		kind := "transient"
		if permanent {
			kind = "permanent"
		}
		s.tel.sinkFailures.Add(ctx, 1, s.attrs, metric.WithAttributes(attribute.String("kind", kind)))
		if permanent {
			s.giveUp(ctx, batch, attempt, firstErr, err, "permanent error")
			s.backoff.Reset()
			return nil
		}
		wait := s.backoff.NextBackOff()
		if wait == backoff.Stop {
			s.giveUp(ctx, batch, attempt, firstErr, err, fmt.Sprintf("retries exhausted after %s", s.retry.MaxElapsed))
			s.backoff.Reset()
			return nil
		}
		s.tel.sinkRetries.Add(ctx, 1, s.attrs)
		s.log.Warn("delivery failed, retrying",
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.Int("events", len(batch)),
			slog.Uint64("first_seq", batch[0].Event.Sequence), slog.String("error", err.Error()))
		timer := s.clock.NewTimer(wait)
		select {
		case <-timer.C():
		case <-stopping:
			timer.Stop()
			return errStopping
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
}

// attempt calls Deliver once inside a span, turning a panic into a
// permanent error so that one bad event cannot crash the engine or loop.
func (s *sinkRunner) attempt(ctx context.Context, batch []Delivery, attempt int) (err error) {
	links := make([]trace.Link, 0, min(len(batch), 16))
	for i := 0; i < len(batch) && i < 16; i++ {
		if sc := trace.SpanContextFromContext(contextWithTraceParent(context.Background(), batch[i].Event.TraceParent)); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	ctx, span := s.tel.tracer.Start(ctx, "sink.deliver", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithLinks(links...),
		trace.WithAttributes(attribute.String("sluice.sink", s.name), attribute.Int("sluice.events", len(batch)),
			attribute.Int("sluice.attempt", attempt), attribute.Int64("sluice.seq.first", int64(batch[0].Event.Sequence))))
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("sink %s panicked: %v", s.name, r))
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	return s.sink.Deliver(ctx, batch)
}

// giveUp records a batch the sink will not take. The events stay in the
// journal, so they can still be replayed.
func (s *sinkRunner) giveUp(ctx context.Context, batch []Delivery, attempts int, firstErr, lastErr error, reason string) {
	s.tel.sinkDeadLettered.Add(ctx, int64(len(batch)), s.attrs)
	s.log.Error("delivery given up",
		slog.String("reason", reason), slog.Int("attempts", attempts), slog.Int("events", len(batch)),
		slog.Uint64("first_seq", batch[0].Event.Sequence), slog.Uint64("last_seq", batch[len(batch)-1].Event.Sequence),
		slog.String("first_error", firstErr.Error()), slog.String("last_error", lastErr.Error()))
}
