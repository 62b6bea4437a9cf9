package pipeline

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// sourceHost is the SourceHost the runner gives each source.
type sourceHost struct {
	name    string
	journal Journal
	tel     *telemetry
	clock   Clock
	attrs   metric.MeasurementOption
	// onAppend is told the last appended sequence, for lag accounting.
	onAppend func(last uint64)
	// sinks finds a sink of the pipeline by name (nil if none), for
	// WatchDeliveries.
	sinks func(name string) *sinkRunner
	// taps observe what the source appended; counts are its totals.
	taps   *tapHub
	counts *sourceCounters
}

var (
	_ SourceHost      = (*sourceHost)(nil)
	_ DeliveryWatcher = (*sourceHost)(nil)
)

// Emit implements SourceHost. It fills Origin (always), Source (when
// empty, "/sluice/sources/NAME") and TraceParent (when empty, from the
// emit span) in place, forces every state update onto this source, and
// appends the batch.
func (h *sourceHost) Emit(ctx context.Context, events []Event, state ...StateUpdate) (AppendResult, error) {
	ctx, span := h.tel.tracer.Start(ctx, "source.emit", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("sluice.source", h.name), attribute.Int("sluice.events", len(events))))
	defer span.End()
	traceparent := traceParentOf(ctx)
	for i := range events {
		e := &events[i]
		e.Origin = h.name
		if e.Source == "" {
			e.Source = "/sluice/sources/" + h.name
		}
		if e.TraceParent == "" {
			e.TraceParent = traceparent
		}
	}
	for i := range state {
		state[i].Source = h.name
	}
	start := h.clock.Now()
	res, err := h.journal.Append(ctx, AppendBatch{Events: events, State: state})
	if err != nil {
		reason := "error"
		switch {
		case errors.Is(err, ErrJournalFull):
			reason = "full"
		case errors.Is(err, ErrJournalClosed):
			reason = "closed"
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			reason = "canceled"
		}
		h.tel.sourceEmitErrors.Add(ctx, 1, h.attrs, metric.WithAttributes(attribute.String("reason", reason)))
		h.counts.emitErrors.Add(1)
		span.RecordError(err)
		span.SetStatus(codes.Error, reason)
		return res, err
	}
	h.tel.sourceEvents.Add(ctx, int64(len(events)), h.attrs)
	h.counts.appended.Add(uint64(len(events)))
	h.taps.appended(h.name, events, res)
	h.tel.sourceEmitDuration.Record(ctx, h.clock.Now().Sub(start).Seconds(), h.attrs)
	if res.Last != 0 && h.onAppend != nil {
		h.onAppend(res.Last)
	}
	span.SetAttributes(attribute.Int64("sluice.seq.first", int64(res.First)), attribute.Int64("sluice.seq.last", int64(res.Last)))
	return res, nil
}

// State implements SourceHost.
func (h *sourceHost) State(ctx context.Context) (map[string][]byte, error) {
	return h.journal.SourceState(ctx, h.name)
}

// traceParentOf renders ctx's span context as a W3C traceparent header, or
// "" if ctx carries no valid span.
func traceParentOf(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}

// contextWithTraceParent returns ctx carrying the remote span context of a
// W3C traceparent, or ctx unchanged if tp is empty or malformed.
func contextWithTraceParent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}

// sinceSeconds is a small helper for latency histograms.
func sinceSeconds(clock Clock, start time.Time) float64 { return clock.Now().Sub(start).Seconds() }
