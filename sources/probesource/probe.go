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
	span.SetAttributes(attribute.Bool("sluice.probe.healthy", o.healthy))
	if !o.healthy {
		span.SetStatus(codes.Error, o.err)
		s.set.Logger.Debug("probe check failed", slog.String("probe", p.spec.name), slog.String("error", o.err))
	}

	next := p.st.apply(o, now, p.spec.failureThreshold, p.spec.successThreshold)
	var events []pipeline.Event
	add := func(typ string, healthy bool, data any) {
		ev, err := p.event(typ, healthy, data, now)
		if err != nil {
			s.set.Logger.Error("probe event not encoded", slog.String("probe", p.spec.name), slog.String("error", err.Error()))
			return
		}
		events = append(events, ev)
	}
	if p.spec.results {
		add(TypeResult, o.healthy, p.newData(next, o, latency, now))
	}
	transition := next.state != p.st.state
	if transition {
		d := p.newData(next, o, latency, now)
		d.From, d.To = p.st.state, next.state
		add(TypeState, next.state != StateUnhealthy, d)
	}
	heartbeat := p.spec.heartbeat > 0 && (p.lastHeartbeat.IsZero() || slot.Sub(p.lastHeartbeat) >= p.spec.heartbeat)
	if heartbeat {
		add(TypeHeartbeat, next.state != StateUnhealthy, p.newData(next, o, latency, now))
	}
	for _, x := range o.extra {
		add(x.typ, x.healthy, x.data)
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
