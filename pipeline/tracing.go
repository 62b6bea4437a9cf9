package pipeline

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// maxSpanLinks bounds the links a span over a batch carries: one per
// distinct trace context among its events, the first ones (the SDK's
// default link limit).
const maxSpanLinks = 128

// startEventsSpan starts a span over a batch of events, joined to their
// traces through their traceparent (the CloudEvents distributed-tracing
// extension): when every event that has one carries the same traceparent
// (one request, one producer), the span is that context's child, so a
// trace shows receive, append, route and deliver as one tree; when they
// differ, the span is a new root linked to each distinct context. The
// links are parsed only when the span records, so a disabled tracer costs
// one string comparison per event. traceparent(i) is event i's, of n.
func startEventsSpan(ctx context.Context, tracer trace.Tracer, name string, n int, traceparent func(i int) string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	first, mixed := "", false
	for i := range n {
		tp := traceparent(i)
		switch {
		case tp == "" || tp == first:
		case first == "":
			first = tp
		default:
			mixed = true
		}
		if mixed {
			break
		}
	}
	if !mixed {
		if sc := spanContextOf(first); sc.IsValid() {
			return tracer.Start(trace.ContextWithRemoteSpanContext(ctx, sc), name, opts...)
		}
		return tracer.Start(ctx, name, opts...)
	}
	ctx, span := tracer.Start(ctx, name, append(opts, trace.WithNewRoot())...)
	if !span.IsRecording() {
		return ctx, span
	}
	seen := make(map[string]struct{}, min(n, maxSpanLinks))
	for i := 0; i < n && len(seen) < maxSpanLinks; i++ {
		tp := traceparent(i)
		if _, dup := seen[tp]; dup || tp == "" {
			continue
		}
		seen[tp] = struct{}{}
		if sc := spanContextOf(tp); sc.IsValid() {
			span.AddLink(trace.Link{SpanContext: sc})
		}
	}
	span.SetAttributes(attribute.Int("sluice.traces", len(seen)))
	return ctx, span
}

// spanContextOf parses a W3C traceparent; the result is invalid if tp is
// empty or malformed.
func spanContextOf(tp string) trace.SpanContext {
	if tp == "" {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(contextWithTraceParent(context.Background(), tp))
}

// routeBatch is sinkRoutes.batch inside a sink.route span.
func (s *sinkRunner) routeBatch(ctx context.Context, records []Record, dst []Delivery) (batch, []rejection) {
	if len(records) == 0 {
		return s.routes.batch(records, dst)
	}
	_, span := startEventsSpan(ctx, s.tel.tracer, "sink.route", len(records),
		func(i int) string { return records[i].Event.TraceParent },
		trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attribute.String("sluice.sink", s.name),
			attribute.Int("sluice.events", len(records)), attribute.Int64("sluice.seq.first", int64(records[0].Seq))))
	b, rejected := s.routes.batch(records, dst)
	span.SetAttributes(attribute.Int("sluice.deliveries", len(b.deliveries)), attribute.Int("sluice.rejected", len(rejected)))
	span.End()
	return b, rejected
}
