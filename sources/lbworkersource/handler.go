package lbworkersource

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
)

// inbound is one request as a transport received it.
type inbound struct {
	transport string
	client    string
	// requestID is the client's id for the request; empty means a fresh
	// one is made.
	requestID string
	// dedupeKey, when set, makes a resubmitted request get the first reply.
	dedupeKey string
	body      []byte
	// oversize is the size of a request whose body was not read because
	// it exceeded max_request_bytes; -1 when its size is unknown (a
	// chunked body cut at the limit).
	oversize int
}

// Outcomes, the "outcome" attribute of the request metrics.
const (
	outcomePass       = "pass"
	outcomeFail       = "fail"
	outcomeBadRequest = "bad_request"
	outcomeDuplicate  = "duplicate"
	outcomeNotStored  = "not_journaled"
	outcomeNotApplied = "not_applied"
)

// outcomes lists every outcome (the metrics' attribute sets are built
// for each).
var outcomes = []string{outcomePass, outcomeFail, outcomeBadRequest, outcomeDuplicate, outcomeNotStored, outcomeNotApplied}

// answer is a reply with what it means for metrics and the HTTP status.
type answer struct {
	body    []byte
	outcome string
}

// handle answers one request: it validates it, appends it as a
// sluice.lb.request event with its dedupe record, and returns the reply
// only once the append is durable. A refusing journal gives FAIL with the
// journal's reason; nothing is answered PASS that is not in the journal.
func (s *source) handle(ctx context.Context, in inbound) answer {
	start := s.clock.Now()
	var span trace.Span
	if s.tel.tracing {
		ctx, span = s.tel.tracer.Start(ctx, "lbworker.request")
		defer span.End()
	}
	a, action := s.answer(ctx, in)
	if span != nil && span.IsRecording() {
		span.SetAttributes(attribute.String("sluice.lb.transport", in.transport),
			attribute.String("sluice.lb.action", action), attribute.String("sluice.lb.outcome", a.outcome))
		if a.outcome != outcomePass && a.outcome != outcomeDuplicate {
			span.SetStatus(codes.Error, a.outcome)
		}
	}
	s.tel.record(ctx, in.transport, action, a.outcome, s.clock.Now().Sub(start).Seconds())
	return a
}

func (s *source) answer(ctx context.Context, in inbound) (answer, string) {
	limit := int(s.cfg.MaxRequestBytes)
	if in.oversize != 0 || len(in.body) > limit {
		reason := fmt.Sprintf("request of %d bytes exceeds max_request_bytes (%d)", max(in.oversize, len(in.body)), limit)
		if in.oversize < 0 {
			reason = fmt.Sprintf("request exceeds max_request_bytes (%d)", limit)
		}
		s.log.WarnContext(ctx, "request refused", slog.String("transport", in.transport), slog.String("client", in.client), slog.String("reason", reason))
		return answer{body: libra.FailReply(nil, reason), outcome: outcomeFail}, actionUnknown
	}
	d, ref := libra.Decode(in.body)
	if ref != nil {
		outcome := outcomeFail
		if ref.Kind == libra.KindBadRequest {
			outcome = outcomeBadRequest
		}
		s.log.InfoContext(ctx, "request refused", slog.String("transport", in.transport), slog.String("client", in.client),
			slog.String("reason", ref.Error()), slog.String("outcome", outcome))
		return answer{body: ref.Reply, outcome: outcome}, actionUnknown
	}
	action := string(d.Request.Action)
	if in.dedupeKey != "" {
		prev, release, err := s.dedupe.acquire(ctx, in.dedupeKey)
		if err != nil {
			return answer{body: libra.FailReply(d.Message, "request not journaled: "+err.Error()), outcome: outcomeNotStored}, action
		}
		defer release()
		if prev != nil {
			s.log.InfoContext(ctx, "resubmitted request answered with its first reply", slog.String("request_id", in.requestID),
				slog.String("transport", in.transport), slog.String("action", action))
			return answer{body: prev, outcome: outcomeDuplicate}, action
		}
	}
	if in.requestID == "" {
		in.requestID = newRequestID()
	}
	reply, outcome := s.reply(ctx, d)
	var watch *pipeline.DeliveryWatch
	if s.waitsForSinks(d.Request.Action) {
		w, err := s.watcher.WatchDeliveries(s.cfg.ReplyAfter...)
		if err != nil { // checked at Run: cannot happen
			return answer{body: libra.FailReply(d.Message, "request not journaled: reply_after: "+err.Error()), outcome: outcomeNotStored}, action
		}
		defer w.Close()
		watch = w
	}
	seq, err := s.journal(ctx, in, d, reply)
	if err != nil {
		reason := "request not journaled: " + err.Error()
		s.log.ErrorContext(ctx, "request not journaled", slog.String("request_id", in.requestID), slog.String("action", action), slog.String("error", err.Error()))
		return answer{body: libra.FailReply(d.Message, reason), outcome: outcomeNotStored}, action
	}
	if watch != nil {
		st := s.await(ctx, d, watch, seq)
		s.settle(ctx, in, d, st)
		reply, outcome = st.reply, st.outcome
	}
	// Debug: the journal holds every accepted request; at thousands a
	// second a log line each would cost more than the request.
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.LogAttrs(ctx, slog.LevelDebug, "request accepted", slog.String("request_id", in.requestID), slog.String("action", action),
			slog.String("transport", in.transport), slog.String("client", in.client), slog.String("outcome", outcome))
	}
	return answer{body: reply, outcome: outcome}, action
}

// journal appends the request's event, with its dedupe record in the same
// transaction, and returns its sequence.
func (s *source) journal(ctx context.Context, in inbound, d *libra.Decoded, reply []byte) (uint64, error) {
	rev := libra.NewRequestEvent(d, in.requestID, in.transport, in.client)
	data := rev.Marshal()
	ev := pipeline.Event{
		Type:            libra.EventRequest,
		Subject:         s.cfg.Gearman.Function,
		DataContentType: eventtypes.ContentType,
		Data:            data,
		Severity:        pipeline.SeverityNotice,
	}
	if in.dedupeKey != "" {
		ev.ID = in.dedupeKey
	} else if in.transport == libra.TransportHTTP {
		ev.ID = in.requestID
	}
	var p pending
	if in.dedupeKey != "" {
		p = s.dedupe.prepare(s.name, in.dedupeKey, reply)
	}
	res, err := s.host.Emit(ctx, []pipeline.Event{ev}, p.updates...)
	if err != nil {
		if in.dedupeKey != "" {
			s.dedupe.abort(p)
		}
		return 0, err
	}
	if in.dedupeKey != "" {
		s.dedupe.commit(p)
	}
	return res.Last, nil
}

// reply builds the reply to an accepted request, sent once it is durable.
// UPDATE, SUSPEND, ENABLE and DELETE answer PASS: accepted and journaled,
// applied by the sinks that route them. DISCOVER and DIAGNOSTICS are
// answered here. STATS, METRICS and ARCHIVE need a sink's answer: without
// reply_after they are FAIL. With reply_after this reply is provisional:
// remembered for the dedupe key with the event and replaced by the
// sinks' answer once they completed (see settle); a resubmission after a
// crash in between gets it.
func (s *source) reply(ctx context.Context, d *libra.Decoded) ([]byte, string) {
	if d.Request.Action.ChangesState() { // the common case: no fields added
		return libra.PassReplyOf(d.Message), outcomePass
	}
	msg := d.Message.Shallow() // d.Message stays as received for a FAIL
	switch d.Request.Action {
	case libra.ActionDiscover:
		msg.Set("version", libra.String(s.cfg.Discover.Version))
		msg.Set("release", libra.String(s.cfg.Discover.Release))
	case libra.ActionDiagnostics:
		s.diagnose(ctx, msg)
	case libra.ActionStats, libra.ActionMetrics, libra.ActionArchive:
		if len(s.cfg.ReplyAfter) > 0 {
			return libra.FailReply(msg, "the worker restarted before sink "+strings.Join(s.cfg.ReplyAfter, ", ")+" answered; the request is journaled"), outcomeFail
		}
		return libra.FailReply(msg, string(d.Request.Action)+" is answered by a sink: configure reply_after with the sink that applies requests; the request is journaled"), outcomeFail
	}
	return libra.PassReply(msg), outcomePass
}

func newRequestID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
