package vessink

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// mapper turns deliveries into VES events. It holds the alarm table and
// the heartbeat state, so it is used by Deliver's goroutine only (except
// heartbeats.current).
type mapper struct {
	enc                 encoder
	sinkName            string
	reportingEntityName string
	reportingEntityID   string
	publisher           string
	faultEventID        string
	rules               []Rule
	fallback            Rule
	log                 *slog.Logger

	alarms *alarmTable
	beats  *heartbeats
	// warnedSlow remembers the last (interval, source interval) warned
	// about, so the warning is logged once per change.
	warnedSlow [2]time.Duration
}

// mapped is one delivery's outcome: an encoded event, or a heartbeat
// thinned out (skip).
type mapped struct {
	domain string
	body   []byte
	skip   bool
}

// mapDelivery maps and encodes d. An error is permanent: the event cannot
// be expressed in VES.
func (m *mapper) mapDelivery(ctx context.Context, d *pipeline.Delivery) (mapped, error) {
	e := &d.Event
	rule := m.ruleFor(d.Route, e)
	p := parsePayload(e)
	ev := vesEvent{domain: rule.Domain}
	h := &ev.header
	h.eventID = d.Key
	if h.eventID == "" || strings.ContainsFunc(h.eventID, isSpace) {
		h.eventID = pipeline.IdempotencyKey(e.Source, e.ID, m.sinkName)
	}
	h.eventType = rule.EventType
	h.reportingEntityName = m.reportingEntityName
	h.reportingEntityID = m.reportingEntityID
	h.sequence = e.Sequence
	h.sourceName = firstNonEmpty(p.str("source_name"), e.Subject, m.reportingEntityName)
	h.sourceID = p.str("source_id")
	h.lastMicros = micros(e.Time)
	h.startMicros = h.lastMicros
	h.at = e.Time
	ident := make([]field, 0, 3)
	for _, f := range [...]field{{Name: "sluice.id", Value: e.ID}, {Name: "sluice.source", Value: e.Source}, {Name: "sluice.type", Value: e.Type}} {
		if f.Value != "" {
			ident = append(ident, f)
		}
	}

	switch rule.Domain {
	case DomainFault:
		m.mapFault(ctx, d, rule, &p, &ev, ident)
	case DomainHeartbeat:
		if !m.beats.decide(h.eventID, e.Time) {
			return mapped{domain: rule.Domain, skip: true}, nil
		}
		m.mapHeartbeat(ctx, &p, &ev, ident)
	case DomainStateChange:
		if err := m.mapStateChange(e, rule, &p, &ev, ident); err != nil {
			return mapped{}, err
		}
	case DomainNotification:
		m.mapNotification(e, rule, &p, &ev, ident)
	default:
		ev.domain = DomainOther
		m.mapOther(e, rule, &p, &ev, ident)
	}
	if rule.Priority != "" {
		h.priority = rule.Priority
	}
	if rule.EventName != "" {
		h.eventName = rule.EventName
	}
	return mapped{domain: ev.domain, body: m.enc.appendEvent(make([]byte, 0, 512+len(p.object)), &ev)}, nil
}

func (m *mapper) mapFault(ctx context.Context, d *pipeline.Delivery, rule *Rule, p *payload, ev *vesEvent, ident []field) {
	e := &d.Event
	h := &ev.header
	base, clearType := baseType(e.Type)
	isClear := clearType || p.boolean("cleared") || strings.EqualFold(p.str("ves_severity", "event_severity", "severity"), "NORMAL")
	// A state change to a healthy state is a clear; from a state that was
	// not a failure (a probe's first "unknown -> healthy"), it clears
	// nothing that was raised, so its missing raise is not worth a warning.
	expectRaise := true
	if !isClear {
		if to := p.str("to", "new_state", "state"); to != "" {
			st, ok := vesState(rule, to)
			isClear = ok && st == stateInService
			if from, known := vesState(rule, p.str("from", "old_state", "previous_state", "previous")); known && from != stateOutOfService {
				expectRaise = false
			}
		}
	}
	condition := sanitizeCondition(p.str("alarm_condition"))
	alarmKey := p.str("alarm_id")
	if alarmKey == "" {
		alarmKey = e.Source + "\x00" + h.sourceName + "\x00" + base
	}
	hint := micros(p.time("raised_at"))
	if hint == 0 {
		hint = micros(p.time("failing_since")) // probesource: when the failure streak began
	}
	f := &faultFields{}
	if isClear {
		f.eventSeverity = "NORMAL"
		ep, ok := m.alarms.clear(alarmKey, h.lastMicros)
		switch {
		case hint != 0:
			h.startMicros = hint
		case ok:
			h.startMicros = ep.Start
		default:
			level := slog.LevelWarn
			if !expectRaise {
				level = slog.LevelDebug
			}
			m.log.Log(ctx, level, "ves fault clear without a known raise: startEpochMicrosec is the clear's own time (set state_file, or have the source send raised_at)",
				slog.String("type", e.Type), slog.String("source_name", h.sourceName), slog.Uint64("seq", e.Sequence))
		}
		if condition == "" && ok {
			condition = ep.Condition
		}
		if ok && m.faultEventID == FaultEventIDAlarm {
			h.eventID = ep.EventID
		}
	} else {
		f.eventSeverity = faultSeverity(p, e.Severity)
		if condition == "" {
			condition = firstNonEmpty(rule.AlarmCondition, camel(base))
		}
		ep := m.alarms.raise(alarmKey, h.lastMicros, hint, h.eventID, condition)
		h.startMicros = ep.Start
		if hint != 0 {
			h.startMicros = hint
		}
		if m.faultEventID == FaultEventIDAlarm {
			h.eventID = ep.EventID
		}
	}
	if condition == "" {
		condition = firstNonEmpty(rule.AlarmCondition, camel(base))
	}
	f.alarmCondition = condition
	f.eventSourceType = firstNonEmpty(p.str("event_source_type"), rule.EventSourceType, "other")
	f.specificProblem = firstNonEmpty(p.str("specific_problem", "reason", "message", "last_error", "error"), rule.SpecificProblem,
		condition+" on "+h.sourceName)
	f.vfStatus = rule.VFStatus
	if v := p.str("vf_status"); slices.Contains(vfStatuses, v) {
		f.vfStatus = v
	}
	if f.vfStatus == "" {
		f.vfStatus = "Active"
	}
	f.alarmInterfaceA = p.str("alarm_interface")
	f.eventCategory = p.str("event_category")
	f.info = p.fields(ident)
	ev.fault = f
	h.eventName = "Fault_" + m.publisher + "_" + camel(condition)
	switch f.eventSeverity {
	case "CRITICAL", "MAJOR":
		h.priority = "High"
	case "MINOR":
		h.priority = "Medium"
	default:
		h.priority = "Normal"
	}
}

// faultSeverity is the eventSeverity of a raise: a VES severity named in
// the data, else the event's severity mapped (critical and above
// CRITICAL, error MAJOR, warning MINOR, anything lower WARNING).
func faultSeverity(p *payload, sev pipeline.Severity) string {
	for _, k := range []string{"ves_severity", "event_severity", "severity"} {
		switch s := strings.ToUpper(p.str(k)); s {
		case "CRITICAL", "MAJOR", "MINOR", "WARNING":
			return s
		}
	}
	switch {
	case sev >= pipeline.SeverityCritical:
		return "CRITICAL"
	case sev == pipeline.SeverityError:
		return "MAJOR"
	case sev == pipeline.SeverityWarning:
		return "MINOR"
	}
	return "WARNING"
}

func (m *mapper) mapHeartbeat(ctx context.Context, p *payload, ev *vesEvent, ident []field) {
	interval := m.beats.current()
	source := p.duration("interval")
	if interval > 0 && source > interval && m.warnedSlow != [2]time.Duration{interval, source} {
		m.warnedSlow = [2]time.Duration{interval, source}
		m.log.WarnContext(ctx, "ves heartbeats arrive less often than the heartbeat interval in force; set the heartbeat source's interval to at most that",
			slog.Duration("interval", interval), slog.Duration("source_interval", source))
	}
	ev.heartbeat = &heartbeatFields{interval: reportedSeconds(interval, source), additional: p.fields(ident)}
	ev.header.eventName = "Heartbeat_" + m.publisher
	ev.header.priority = "Normal"
}

func (m *mapper) mapStateChange(e *pipeline.Event, rule *Rule, p *payload, ev *vesEvent, ident []field) error {
	to := p.str("to", "new_state", "state")
	newState, ok := vesState(rule, to)
	if !ok {
		return pipeline.Permanent(fmt.Errorf("%w: new state %q of %s event %s is not a VES state (inService, maintenance, outOfService) and no rule maps it (rules[].states)",
			ErrUnmappable, to, e.Type, e.ID))
	}
	from := p.str("from", "old_state", "previous_state", "previous")
	oldState, ok := vesState(rule, from)
	switch {
	case from == "" && newState == stateInService:
		oldState = stateOutOfService
	case from == "":
		oldState = stateInService
	case !ok:
		return pipeline.Permanent(fmt.Errorf("%w: old state %q of %s event %s is not a VES state (inService, maintenance, outOfService) and no rule maps it (rules[].states)",
			ErrUnmappable, from, e.Type, e.ID))
	}
	ev.stateChange = &stateChangeFields{
		newState: newState,
		oldState: oldState,
		// A device's load balancers (sluice.lb.state) share its subject:
		// the load balancer is the interface whose state changed.
		stateInterface: firstNonEmpty(p.str("state_interface", "interface"), rule.StateInterface, p.str("load_balancer"), e.Subject, camel(e.Type)),
		additional:     p.fields(ident),
	}
	ev.header.eventName = "StateChange_" + m.publisher + "_" + camel(e.Type)
	ev.header.priority = severityPriority(e.Severity)
	return nil
}

func (m *mapper) mapNotification(e *pipeline.Event, rule *Rule, p *payload, ev *vesEvent, ident []field) {
	ev.notification = &notificationFields{
		changeIdentifier: firstNonEmpty(p.str("change_identifier"), e.Subject, e.Source, e.ID),
		changeType:       firstNonEmpty(p.str("change_type"), e.Type),
		newState:         p.str("to", "new_state", "state"),
		oldState:         p.str("from", "old_state", "previous_state", "previous"),
		stateInterface:   firstNonEmpty(p.str("state_interface", "interface"), rule.StateInterface),
		additional:       p.fields(ident),
	}
	ev.header.eventName = "Notification_" + m.publisher + "_" + camel(e.Type)
	ev.header.priority = severityPriority(e.Severity)
}

func (m *mapper) mapOther(e *pipeline.Event, _ *Rule, p *payload, ev *vesEvent, ident []field) {
	o := &otherFields{objectName: e.Type, objectAt: micros(e.Time)}
	fields := p.fields(ident)
	if p.object != nil {
		if len(p.object) <= maxObjectBytes {
			o.object = p.object
		} else {
			fields = append(fields, field{Name: "sluice.object", Value: fmt.Sprintf("left out: %d bytes of JSON (more than %d)", len(p.object), maxObjectBytes)})
			slices.SortStableFunc(fields, func(a, b field) int { return strings.Compare(a.Name, b.Name) })
		}
	}
	o.hashMap = fields
	ev.other = o
	ev.header.eventName = "Other_" + m.publisher + "_" + camel(e.Type)
	ev.header.priority = severityPriority(e.Severity)
}

// severityPriority maps an event severity to a VES priority.
func severityPriority(sev pipeline.Severity) string {
	switch {
	case sev >= pipeline.SeverityCritical:
		return "High"
	case sev == pipeline.SeverityError:
		return "Medium"
	case sev < pipeline.SeverityInfo:
		return "Low"
	}
	return "Normal"
}

// micros returns t in microseconds since the epoch; 0 for the zero time
// (VES: "a source with no clock sends 0") and times before 1970.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(0, t.UnixMicro())
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
