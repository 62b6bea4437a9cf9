package lbworkersource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
)

// ErrNoDeliveryWatch is returned by Run when reply_after is set and the
// host cannot report deliveries (not a pipeline's source host).
var ErrNoDeliveryWatch = errors.New("lbworker: reply_after needs a host that reports deliveries (pipeline.DeliveryWatcher)")

// waitsForSinks reports whether the reply to action waits for the
// reply_after sinks: every action a sink applies or answers.
func (s *source) waitsForSinks(a libra.Action) bool {
	return len(s.cfg.ReplyAfter) > 0 && a != libra.ActionDiscover && a != libra.ActionDiagnostics
}

// checkReplyAfter verifies at Run that the host reports deliveries and
// that every reply_after name is one of its sinks.
func (s *source) checkReplyAfter() error {
	if len(s.cfg.ReplyAfter) == 0 {
		return nil
	}
	w, ok := s.host.(pipeline.DeliveryWatcher)
	if !ok {
		return ErrNoDeliveryWatch
	}
	watch, err := w.WatchDeliveries(s.cfg.ReplyAfter...)
	if err != nil {
		return fmt.Errorf("lbworker: reply_after: %w", err)
	}
	watch.Close()
	s.watcher = w
	return nil
}

// settled is the final answer to a request that waited for its sinks.
type settled struct {
	reply   []byte
	outcome string
	// failed and reason are the sinks' verdict (not set on a timeout).
	failed bool
	reason string
	// applied is false when the wait ended before every sink completed.
	applied bool
}

// await waits, bounded by reply_timeout, until every reply_after sink
// completed the request journaled at seq, and builds the reply from their
// outcomes: PASS with the fields the sinks added, or FAIL with the first
// sink's reason (a delivery given up on, a result reporting FAIL, a sink
// whose routes do not select the request). A timeout is FAIL "not applied
// in time": the request stays journaled and its delivery continues.
func (s *source) await(ctx context.Context, d *libra.Decoded, watch *pipeline.DeliveryWatch, seq uint64) settled {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.ReplyTimeout)
	defer cancel()
	cs, err := watch.Wait(wctx, seq)
	msg := d.Message.Shallow()
	if err != nil {
		var pending []string
		for _, c := range cs {
			if c.Outcome == pipeline.OutcomePending {
				pending = append(pending, c.Sink)
			}
		}
		reason := fmt.Sprintf("not applied in time: sink %s did not complete the request within reply_timeout (%s); it is journaled (sequence %d) and its delivery continues",
			strings.Join(pending, ", "), s.cfg.ReplyTimeout, seq)
		if ctx.Err() != nil {
			reason = fmt.Sprintf("not applied: the wait for sink %s was cut short (the worker is stopping or the client went away); the request is journaled (sequence %d) and its delivery continues",
				strings.Join(pending, ", "), seq)
		}
		return settled{reply: libra.FailReply(msg, reason), outcome: outcomeNotApplied}
	}
	reason, failed := verdict(msg, string(d.Request.Action), cs)
	if failed {
		return settled{reply: libra.FailReply(msg, reason), outcome: outcomeFail, failed: true, reason: reason, applied: true}
	}
	return settled{reply: libra.PassReply(msg), outcome: outcomePass, applied: true}
}

// verdict adds the sinks' result fields to msg and returns the first
// failure among cs.
func verdict(msg *libra.Value, action string, cs []pipeline.Completion) (string, bool) {
	for _, c := range cs {
		switch c.Outcome {
		case pipeline.OutcomeDeadLettered:
			return fmt.Sprintf("sink %s: %v", c.Sink, c.Err), true
		case pipeline.OutcomeSkipped:
			return fmt.Sprintf("sink %s did not receive the %s request: none of its routes selects it (check reply_after and the routes)", c.Sink, action), true
		case pipeline.OutcomeDelivered:
			reason, failed, err := libra.ApplyResult(msg, c.Result)
			if err != nil {
				return fmt.Sprintf("sink %s: %v", c.Sink, err), true
			}
			if failed {
				return reason, true
			}
		}
	}
	return "", false
}

// settle records what a waited-for request did: the load balancers' state
// changes as sluice.lb.state events, and the final reply in place of the
// provisional one remembered for its dedupe key, in one append. A failing
// append is logged; the reply stands (the request itself is journaled).
func (s *source) settle(ctx context.Context, in inbound, d *libra.Decoded, st settled) {
	var updates []pipeline.StateUpdate
	if in.dedupeKey != "" {
		updates = s.dedupe.revise(s.name, in.dedupeKey, st.reply)
	}
	if !st.applied {
		s.emitSettled(ctx, nil, updates, in)
		return
	}
	s.lbs.mu.Lock()
	defer s.lbs.mu.Unlock()
	c := s.lbs.changes(s.name, s.cfg.Gearman.Function, outcome{
		req: d.Request, requestID: in.requestID, failed: st.failed, reason: st.reason, at: s.clock.Now(),
	})
	if s.emitSettled(ctx, c.events, append(updates, c.updates...), in) {
		s.lbs.apply(c)
	}
}

func (s *source) emitSettled(ctx context.Context, events []pipeline.Event, updates []pipeline.StateUpdate, in inbound) bool {
	if len(events) == 0 && len(updates) == 0 {
		return true
	}
	if _, err := s.host.Emit(context.WithoutCancel(ctx), events, updates...); err != nil {
		s.log.ErrorContext(ctx, "load-balancer state and final reply not journaled", slog.String("request_id", in.requestID),
			slog.Int("state_events", len(events)), slog.String("error", err.Error()))
		return false
	}
	s.tel.stateEvents(ctx, len(events))
	return true
}
