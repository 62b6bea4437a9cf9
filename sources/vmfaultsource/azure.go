package vmfaultsource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// Maintenance states of sluice.vm.maintenance events.
const (
	MaintenanceScheduled = "scheduled"
	MaintenanceApproved  = "approved"
	MaintenanceStarted   = "started"
	MaintenanceCompleted = "completed"
	MaintenanceCancelled = "cancelled"
)

// azureKeyPrefix prefixes the state key of each known Azure event.
const azureKeyPrefix = "az/"

// azureKnown is what the journal keeps of an event of this VM between
// polls and restarts, to report each state once.
type azureKnown struct {
	Status    string    `json:"status"`
	Type      string    `json:"type"`
	FirstSeen time.Time `json:"first_seen"`
	NotBefore time.Time `json:"not_before,omitzero"`
	Approved  bool      `json:"approved,omitempty"`
}

// azureSource polls IMDS Scheduled Events for this VM.
type azureSource struct {
	set   pipeline.Settings
	cfg   Config
	vm    string
	http  *httpDoer
	tel   *telemetry
	retry *retrier
	known map[string]azureKnown
}

func newAzureSource(set pipeline.Settings, cfg Config) (*azureSource, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("vmfault telemetry: %w", err)
	}
	vm := cfg.VMName
	if vm == "" {
		if vm, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("vmfault: vm_name not set and no host name: %w", err)
		}
	}
	// IMDS is plain HTTP on a link-local address: no TLS, no proxy.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &azureSource{
		set: set, cfg: cfg, vm: vm, tel: tel, known: map[string]azureKnown{},
		http:  &httpDoer{client: client, timeout: cfg.Timeout, limit: int64(cfg.MaxResponseBytes), now: set.Clock.Now},
		retry: &retrier{cfg: cfg.Retry, clock: set.Clock, tel: tel, log: set.Logger},
	}, nil
}

// Run implements pipeline.Source: it restores the known events and polls
// every interval until ctx ends.
func (s *azureSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	defer s.http.client.CloseIdleConnections()
	state, err := host.State(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("load vmfault state: %w", err)
	}
	for k, v := range state {
		id, ok := strings.CutPrefix(k, azureKeyPrefix)
		if !ok {
			continue
		}
		var kn azureKnown
		if err := json.Unmarshal(v, &kn); err != nil {
			s.set.Logger.Warn("vmfault state ignored", slog.String("key", k), slog.String("error", err.Error()))
			continue
		}
		s.known[id] = kn
	}
	for {
		if !s.retry.run(ctx, "azure scheduled events", func(ctx context.Context) error { return s.poll(ctx, host) }) {
			return nil
		}
		if !sleep(ctx, s.set.Clock, s.cfg.Interval) {
			return nil
		}
	}
}

func (s *azureSource) url() string {
	return strings.TrimRight(s.cfg.Endpoint, "/") + "/metadata/scheduledevents?api-version=" + azureAPIVersion
}

func (s *azureSource) poll(ctx context.Context, host pipeline.SourceHost) (err error) {
	ctx, span := s.tel.tracer.Start(ctx, "vmfault.poll", trace.WithAttributes(
		attribute.String("sluice.source", s.set.ID), attribute.String("sluice.vmfault.provider", ProviderAzure)))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, errorReason(err))
		}
		span.End()
	}()
	req, err := http.NewRequest(http.MethodGet, s.url(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Metadata", "true")
	a, err := s.http.do(ctx, "azure scheduled events", req, http.StatusOK)
	if err != nil {
		return err
	}
	doc, err := parseAzureDoc(a.body)
	if err != nil {
		return err
	}
	now := s.set.Clock.Now().UTC()
	next, events, err := s.diff(doc, now)
	if err != nil {
		return err
	}
	if err := s.approve(ctx, next, now); err != nil {
		return err
	}
	approvals, err := s.approvalEvents(doc, next)
	if err != nil {
		return err
	}
	events = append(events, approvals...)
	if len(events) == 0 && maps.EqualFunc(next, s.known, func(a, b azureKnown) bool { return a == b }) {
		return nil
	}
	var state []pipeline.StateUpdate
	for id := range s.known {
		if _, ok := next[id]; !ok {
			state = append(state, pipeline.StateUpdate{Key: azureKeyPrefix + id, Delete: true})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(next)) {
		if s.known[id] == next[id] {
			continue
		}
		b, err := json.Marshal(next[id])
		if err != nil {
			return err
		}
		state = append(state, pipeline.StateUpdate{Key: azureKeyPrefix + id, Value: b})
	}
	if _, err := host.Emit(ctx, events, state...); err != nil {
		return fmt.Errorf("%w: %w", errEmit, err)
	}
	s.known = next
	for _, e := range events {
		var d struct {
			State string `json:"state"`
		}
		_ = json.Unmarshal(e.Data, &d)
		s.tel.add(ctx, s.tel.maintenance, 1, attribute.String("state", d.State))
		s.set.Logger.Info("vm maintenance", slog.String("event_id", e.Subject), slog.String("state", d.State))
	}
	return nil
}

// diff returns the known events after doc and the maintenance events of
// the changes: a new Scheduled event is scheduled, a new or Scheduled
// event now Started is started (a hardware failure skips Scheduled), and
// an event that disappears is completed if it had started or its
// NotBefore has passed (a short Freeze can come and go between polls, the
// VM being paused), else cancelled. Events that do not name this VM are
// ignored.
func (s *azureSource) diff(doc azureDoc, now time.Time) (map[string]azureKnown, []pipeline.Event, error) {
	next := make(map[string]azureKnown, len(s.known))
	var out []pipeline.Event
	listed := map[string]bool{}
	for _, e := range doc.Events {
		if !e.names(s.vm) {
			continue
		}
		listed[e.EventID] = true
		kn, ok := s.known[e.EventID]
		if !ok {
			kn = azureKnown{FirstSeen: now, Type: e.EventType}
		}
		if !e.notBefore.IsZero() {
			kn.NotBefore = e.notBefore
		}
		if kn.Status != e.EventStatus {
			state := MaintenanceScheduled
			if e.EventStatus == azureStarted {
				state = MaintenanceStarted
			}
			if kn.Status != azureStarted || e.EventStatus != azureScheduled { // never report going back
				ev, err := maintenanceEvent(e.EventID, state, azureData(e, doc.Incarnation, s.vm), now)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, ev)
				kn.Status = e.EventStatus
			}
		}
		next[e.EventID] = kn
	}
	for _, id := range slices.Sorted(maps.Keys(s.known)) {
		if listed[id] {
			continue
		}
		kn := s.known[id]
		state := MaintenanceCancelled
		if kn.Status == azureStarted || !kn.NotBefore.IsZero() && !now.Before(kn.NotBefore) {
			state = MaintenanceCompleted
		}
		d := maintenanceData{Provider: ProviderAzure, EventID: id, EventType: kn.Type, VM: s.vm, DocumentIncarnation: doc.Incarnation, NotBefore: kn.NotBefore}
		ev, err := maintenanceEvent(id, state, d, now)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ev)
	}
	return next, out, nil
}

// approve sends StartRequests for the Scheduled events known for at least
// approve.after, and marks them approved in next. A failure fails the
// poll (nothing is emitted or marked), so the approval is retried.
func (s *azureSource) approve(ctx context.Context, next map[string]azureKnown, now time.Time) error {
	if s.cfg.Approve == nil {
		return nil
	}
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(next)) {
		kn := next[id]
		if kn.Status == azureScheduled && !kn.Approved && !now.Before(kn.FirstSeen.Add(s.cfg.Approve.After)) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	type startRequest struct {
		EventID string `json:"EventId"`
	}
	body := struct {
		StartRequests []startRequest `json:"StartRequests"`
	}{}
	for _, id := range ids {
		body.StartRequests = append(body.StartRequests, startRequest{EventID: id})
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, s.url(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Metadata", "true")
	req.Header.Set("Content-Type", "application/json")
	if _, err := s.http.do(ctx, "azure approve scheduled events", req, http.StatusOK); err != nil {
		return err
	}
	for _, id := range ids {
		kn := next[id]
		kn.Approved = true
		next[id] = kn
	}
	return nil
}

// approvalEvents reports the events approve just approved.
func (s *azureSource) approvalEvents(doc azureDoc, next map[string]azureKnown) ([]pipeline.Event, error) {
	var out []pipeline.Event
	for _, e := range doc.Events {
		kn, ok := next[e.EventID]
		if !ok || !kn.Approved || s.known[e.EventID].Approved {
			continue
		}
		ev, err := maintenanceEvent(e.EventID, MaintenanceApproved, azureData(e, doc.Incarnation, s.vm), s.set.Clock.Now().UTC())
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}
