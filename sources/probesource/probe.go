package probesource

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// probe is one configured probe at run time. Its fields other than spec,
// check and attrs are used only by the goroutine running its check, or by
// the scheduler while no check is in flight.
type probe struct {
	spec  spec
	check checker
	attrs *probeAttrs
	// spanOpts start the span of each check.
	spanOpts []trace.SpanStartOption

	st probeState
	// next is the scheduled time of the next check; checks stay on the
	// grid next + k*interval, so the phase jitter chose is kept.
	next time.Time
	// lastHeartbeat is the scheduled time of the check that carried the
	// last heartbeat.
	lastHeartbeat time.Time
}

// advance moves next to the first slot of the probe's grid after now; a
// check that overran its interval skips the slots it missed.
func (p *probe) advance(now time.Time) {
	p.next = p.next.Add(p.spec.interval)
	if p.next.After(now) {
		return
	}
	missed := now.Sub(p.next)/p.spec.interval + 1
	p.next = p.next.Add(missed * p.spec.interval)
}

// events builds the events of a check: its result (when asked for), the
// transition, the heartbeat and the kind's extra events, in that order.
func (s *source) events(p *probe, next probeState, o outcome, latency time.Duration, now time.Time, transition, heartbeat bool) []pipeline.Event {
	var list []extraEvent
	if p.spec.results {
		list = append(list, extraEvent{TypeResult, o.healthy, p.newData(next, o, latency, now)})
	}
	if transition {
		d := p.newData(next, o, latency, now)
		d.From, d.To = p.st.state, next.state
		list = append(list, extraEvent{TypeState, next.state != StateUnhealthy, d})
	}
	if heartbeat {
		list = append(list, extraEvent{TypeHeartbeat, next.state != StateUnhealthy, p.newData(next, o, latency, now)})
	}
	list = append(list, o.extra...)
	events := make([]pipeline.Event, 0, len(list))
	for _, e := range list {
		ev, err := p.event(e.typ, e.healthy, e.data, now)
		if err != nil {
			s.set.Logger.Error("probe event not encoded", slog.String("probe", p.spec.name), slog.String("error", err.Error()))
			continue
		}
		events = append(events, ev)
	}
	return events
}

// runCheck runs one check and records what it changed: the events (a
// transition, a heartbeat, the result, extra events of the kind) and the
// probe's new state, in one Emit, so the state in the journal always
// agrees with the events. If the journal refuses the batch the probe keeps
// its previous state, and the next check tries again.
func (s *source) runCheck(ctx context.Context, host pipeline.SourceHost, p *probe) {
	slot := p.next
	ctx, span := s.tel.tracer.Start(ctx, "probe.check", p.spanOpts...)
	defer span.End()
	start := s.set.Clock.Now()
	o := p.check.check(ctx, slot)
	if ctx.Err() != nil {
		// Stopping: an interrupted check says nothing about the target.
		return
	}
	end := s.set.Clock.Now()
	latency := end.Sub(start)
	now := end.UTC()
	s.tel.recordCheck(ctx, p.attrs, o.healthy, latency.Seconds())
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("sluice.probe.healthy", o.healthy))
		if !o.healthy {
			span.SetStatus(codes.Error, o.err)
		}
	}
	if !o.healthy && s.set.Logger.Enabled(ctx, slog.LevelDebug) {
		s.set.Logger.Debug("probe check failed", slog.String("probe", p.spec.name), slog.String("error", o.err))
	}

	next := p.st.apply(o, now, p.spec.failureThreshold, p.spec.successThreshold)
	transition := next.state != p.st.state
	heartbeat := p.spec.heartbeat > 0 && (p.lastHeartbeat.IsZero() || slot.Sub(p.lastHeartbeat) >= p.spec.heartbeat)
	var events []pipeline.Event
	if p.spec.results || transition || heartbeat || len(o.extra) > 0 {
		events = s.events(p, next, o, latency, now, transition, heartbeat)
	}
	var updates []pipeline.StateUpdate
	if p.st.needsSave(next, p.spec.failureThreshold, p.spec.successThreshold) {
		b, err := next.encode(p.spec.failureThreshold, p.spec.successThreshold)
		if err != nil {
			s.set.Logger.Error("probe state not encoded", slog.String("probe", p.spec.name), slog.String("error", err.Error()))
			return
		}
		updates = append(updates, pipeline.StateUpdate{Key: stateKeyPrefix + p.spec.name, Value: b})
	}
	if len(events) == 0 && len(updates) == 0 {
		p.st = next
		return
	}
	if _, err := host.Emit(ctx, events, updates...); err != nil {
		if ctx.Err() != nil {
			return
		}
		if rb, ok := p.check.(rollbacker); ok {
			rb.rollback()
		}
		s.tel.recordEmitFailure(ctx, emitFailureReason(err))
		span.RecordError(err)
		s.set.Logger.Warn("probe events not recorded; the state is kept and retried with the next check",
			slog.String("probe", p.spec.name), slog.Int("events", len(events)), slog.String("error", err.Error()))
		return
	}
	prev := p.st
	p.st = next
	if heartbeat {
		p.lastHeartbeat = slot
	}
	if transition {
		s.tel.recordTransition(ctx, p.attrs, next.state)
		level := slog.LevelInfo
		if next.state == StateUnhealthy {
			level = slog.LevelWarn
		}
		s.set.Logger.Log(ctx, level, "probe state changed", slog.String("probe", p.spec.name),
			slog.String("target", p.check.target()), slog.String("from", prev.state), slog.String("to", next.state),
			slog.Int("consecutive_failures", next.failures), slog.String("last_error", next.lastError))
	}
}
