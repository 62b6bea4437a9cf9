package k8ssink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/sluice-dev/sluice/pipeline"
)

// Limits of events.k8s.io/v1 validation.
const (
	maxReason = 128
	maxAction = 128
	maxNote   = 1024
)

// eventSpec is a rendered Event, before series.
type eventSpec struct {
	regarding objectReference
	namespace string // the Event's own namespace
	reason    string
	note      string
	action    string
	typ       string
}

// renderEvent renders r's event fields for the event in v.
func (s *sink) renderEvent(r *rule, v *view, sev pipeline.Severity) (*eventSpec, error) {
	ref, err := s.renderRef(r, v)
	if err != nil {
		return nil, err
	}
	e := &eventSpec{regarding: ref}
	if e.reason, err = r.reason.render(v, camel(v.Type)); err != nil {
		return nil, renderErr("reason", err)
	}
	if e.note, err = r.note.render(v, defaultNote(v)); err != nil {
		return nil, renderErr("note", err)
	}
	if e.action, err = r.eventAction.render(v, "Report"); err != nil {
		return nil, renderErr("event_action", err)
	}
	if e.typ, err = r.eventType.render(v, severityEventType(sev)); err != nil {
		return nil, renderErr("event_type", err)
	}
	switch {
	case e.reason == "":
		return nil, renderErr("reason", fmt.Errorf("renders empty"))
	case e.action == "":
		return nil, renderErr("event_action", fmt.Errorf("renders empty"))
	case e.typ != eventNormal && e.typ != eventWarning:
		return nil, renderErr("event_type", fmt.Errorf("renders %q, want Normal or Warning", e.typ))
	}
	e.reason, e.action, e.note = truncate(e.reason, maxReason), truncate(e.action, maxAction), truncate(e.note, maxNote)
	// A cluster-scoped object's Events live in default or kube-system.
	e.namespace = ref.Namespace
	if e.namespace == "" {
		e.namespace = "default"
		if s.client.namespace == "kube-system" {
			e.namespace = "kube-system"
		}
	}
	return e, nil
}

// renderRef renders the object r is about.
func (s *sink) renderRef(r *rule, v *view) (objectReference, error) {
	name, err := r.name.render(v, v.Subject)
	if err != nil {
		return objectReference{}, renderErr("name", err)
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return objectReference{}, renderErr("name", fmt.Errorf("%q is not an object name: %s", name, strings.Join(msgs, "; ")))
	}
	ref := objectReference{Kind: r.kind, APIVersion: r.apiVersion, Name: name}
	if !r.clusterScoped {
		ns, err := r.namespace.render(v, s.client.namespace)
		if err != nil {
			return ref, renderErr("namespace", err)
		}
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			return ref, renderErr("namespace", fmt.Errorf("%q is not a namespace: %s", ns, strings.Join(msgs, "; ")))
		}
		ref.Namespace = ns
	}
	return ref, nil
}

func renderErr(field string, err error) error {
	return pipeline.Permanent(fmt.Errorf("%w: %s: %w", ErrRender, field, err))
}

func defaultNote(v *view) string {
	note := v.Type
	if v.Subject != "" {
		note += " " + v.Subject
	}
	if v.Source != "" {
		note += " from " + v.Source
	}
	return note
}

// severityEventType is Warning from severity warning up, else Normal.
func severityEventType(sev pipeline.Severity) string {
	if sev >= pipeline.SeverityWarning {
		return eventWarning
	}
	return eventNormal
}

// isoKey identifies isomorphic events as client-go's broadcaster does:
// type, action, reason, reporting controller and instance, and the
// regarding object; not the note.
func (s *sink) isoKey(e *eventSpec) string {
	h := sha256.New()
	for _, p := range []string{
		e.typ, e.action, e.reason, s.cfg.ReportingController, s.instance,
		e.regarding.Kind, e.regarding.APIVersion, e.regarding.Namespace, e.regarding.Name, e.namespace,
	} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// eventName derives an Event's name from the delivery that starts its
// series: "<regarding name>.<key>", so that a retry or a replay writes
// the same object. Keys that are not lower-case hex are hashed.
func eventName(regarding, key string) string {
	if !isLowerHex(key) || len(key) > 64 {
		sum := sha256.Sum256([]byte(key))
		key = hex.EncodeToString(sum[:16])
	}
	prefix := strings.ToLower(regarding)
	if len(validation.IsDNS1123Subdomain(prefix)) > 0 {
		prefix = "sluice"
	}
	prefix = strings.TrimRight(truncate(prefix, validation.DNS1123SubdomainMaxLength-1-len(key)), ".-")
	return prefix + "." + key
}

func isLowerHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// eventTime is when the event happened, or now when it does not say.
func (s *sink) eventTime(d *pipeline.Delivery) time.Time {
	if !d.Event.Time.IsZero() {
		return d.Event.Time
	}
	return s.clock.Now()
}

// planEvent folds delivery i into its series' write.
func (s *sink) planEvent(p *plan, i int, d *pipeline.Delivery, r *rule, v *view) error {
	spec, err := s.renderEvent(r, v, d.Event.Severity)
	if err != nil {
		return err
	}
	key := s.isoKey(spec)
	sp := p.series[key]
	var cur *seriesState
	if sp != nil {
		cur = &sp.next
	} else if st, ok := s.series[key]; ok {
		cur = st
	}
	seq := d.Event.Sequence
	if cur != nil && seq != 0 && seq <= cur.Seq {
		s.tel.event(context.Background(), actionEvent, outcomeDuplicate, 1)
		return nil // already written: a retry of a delivery that took effect, or a replay
	}
	t := s.eventTime(d).UTC()
	switch {
	case cur == nil || t.Sub(cur.last()) > s.cfg.SeriesIdle:
		sp = &seriesPlan{key: key, fresh: true, next: seriesState{
			Name: eventName(spec.regarding.Name, d.Key), Namespace: spec.namespace,
			Count: 1, First: t.UnixMicro(), Last: t.UnixMicro(), Seq: seq,
		}}
		p.series[key] = sp
		p.add(s.seriesOp(sp))
	default:
		if sp == nil {
			sp = &seriesPlan{key: key, next: *cur}
			p.series[key] = sp
			p.add(s.seriesOp(sp))
		}
		n := &sp.next
		n.Count++
		n.Seq = seq
		n.Last = max(n.Last, t.UnixMicro())
	}
	if sp.spec == nil { // the series' first event of the batch gives the note
		sp.spec = spec
	}
	sp.op.idx = append(sp.op.idx, i)
	return nil
}

// seriesPlan is one series' write in a batch.
type seriesPlan struct {
	key   string
	fresh bool // the series starts in this batch: its Event is created
	next  seriesState
	spec  *eventSpec // the first delivery's of the batch: the Event's fields
	op    *op
}

// seriesOp returns the op that writes sp.
func (s *sink) seriesOp(sp *seriesPlan) *op {
	o := &op{action: actionEvent}
	o.run = func(ctx context.Context) error { return s.writeSeries(ctx, sp) }
	o.commit = func() { s.putSeries(sp.key, &sp.next) }
	sp.op = o
	return o
}

// writeSeries creates the series' Event or patches its series. A create
// that finds the Event (a retry, a replay) patches it; a patch that finds
// none (expired, --event-ttl) creates it with the whole series.
func (s *sink) writeSeries(ctx context.Context, sp *seriesPlan) error {
	if sp.fresh {
		err := s.createEvent(ctx, sp)
		if !apierrors.IsAlreadyExists(err) || sp.next.Count < 2 {
			if apierrors.IsAlreadyExists(err) {
				return nil // a retry or a replay of the first delivery
			}
			return err
		}
		// Created before (a retry, a replay): bring its series up to date.
	}
	err := s.do(ctx, &call{
		request: request{verb: "patch", resource: "events.k8s.io/events", namespace: sp.next.Namespace, name: sp.next.Name},
		group:   "events.k8s.io", version: "v1", patch: types.MergePatchType,
		body: map[string]any{"series": sp.next.series()},
	}, nil)
	if statusCode(err) == http.StatusNotFound {
		return s.createEvent(ctx, sp)
	}
	return err
}

// createEvent creates the series' Event, with its series when it has
// repeats.
func (s *sink) createEvent(ctx context.Context, sp *seriesPlan) error {
	n := &sp.next
	ev := &eventObject{
		TypeMeta:            metav1.TypeMeta{APIVersion: "events.k8s.io/v1", Kind: "Event"},
		ObjectMeta:          metav1.ObjectMeta{Name: n.Name, Namespace: n.Namespace},
		EventTime:           metav1.NewMicroTime(time.UnixMicro(n.First).UTC()),
		ReportingController: s.cfg.ReportingController,
		ReportingInstance:   s.instance,
		Action:              sp.spec.action,
		Reason:              sp.spec.reason,
		Regarding:           sp.spec.regarding,
		Note:                sp.spec.note,
		Type:                sp.spec.typ,
	}
	if n.Count >= 2 {
		ev.Series = n.series()
	}
	return s.do(ctx, &call{
		request: request{verb: "create", resource: "events.k8s.io/events", namespace: n.Namespace, name: n.Name},
		group:   "events.k8s.io", version: "v1", body: ev,
	}, nil)
}
