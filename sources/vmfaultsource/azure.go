package vmfaultsource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// Maintenance states of sluice.vm.maintenance events.
const (
	MaintenanceScheduled = eventtypes.MaintenanceScheduled
	MaintenanceApproved  = eventtypes.MaintenanceApproved
	MaintenanceStarted   = eventtypes.MaintenanceStarted
	MaintenanceCompleted = eventtypes.MaintenanceCompleted
	MaintenanceCancelled = eventtypes.MaintenanceCancelled
)

// azureKeyPrefix prefixes the state key of each known Azure event.
const azureKeyPrefix = ProviderAzure + "/"

// azureSource polls IMDS Scheduled Events for this VM.
type azureSource struct {
	set   pipeline.Settings
	cfg   Config
	vm    string
	http  *httpDoer
	tel   *telemetry
	retry *retrier
	track *tracker
	// doc is the last document read (the loop's goroutine only), for the
	// data of an approval a route asked for.
	doc azureDoc
	// jobs carries approvals from HandleEvents to the loop; done closes
	// when Run returns.
	jobs chan job
	done chan struct{}
}

func newAzureSource(set pipeline.Settings, cfg Config) (*azureSource, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("vmfault telemetry: %w", err)
	}
	vm := cfg.VMName
	return &azureSource{
		set: set, cfg: cfg, vm: vm, tel: tel, track: newTracker(ProviderAzure, azureKeyPrefix, vm),
		http:  &httpDoer{client: newMetadataClient(), timeout: cfg.Timeout, limit: int64(cfg.MaxResponseBytes), now: set.Clock.Now},
		retry: &retrier{cfg: cfg.Retry, clock: set.Clock, tel: tel, log: set.Logger},
		jobs:  make(chan job), done: make(chan struct{}),
	}, nil
}

// Run implements pipeline.Source.
func (s *azureSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	defer close(s.done)
	return runMetadataLoop(ctx, host, s.set, s.cfg.Interval, s.track, s.retry, s.http, "azure scheduled events", s.poll, s.jobs)
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
	next, events, err := s.track.diff(s.observations(doc), now)
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
	if err := emitMaintenance(ctx, host, s.track, next, append(events, approvals...), s.tel, s.set.Logger); err != nil {
		return err
	}
	s.doc = doc
	return nil
}

// observations are the events of doc that name this VM.
func (s *azureSource) observations(doc azureDoc) []observation {
	var out []observation
	for _, e := range doc.Events {
		if !e.names(s.vm) {
			continue
		}
		state := MaintenanceScheduled
		if e.EventStatus == azureStarted {
			state = MaintenanceStarted
		}
		d := azureData(e, doc.Incarnation, s.vm)
		d.Approvable = state == MaintenanceScheduled && !s.track.known[e.EventID].Approved
		out = append(out, observation{id: e.EventID, state: state, notBefore: e.notBefore, data: d})
	}
	return out
}

// approve sends StartRequests for the Scheduled events known for at least
// approve.after, and marks them approved in next. A failure fails the
// poll (nothing is emitted or marked), so the approval is retried.
func (s *azureSource) approve(ctx context.Context, next map[string]knownEvent, now time.Time) error {
	if s.cfg.Approve == nil {
		return nil
	}
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(next)) {
		kn := next[id]
		if kn.State == MaintenanceScheduled && !kn.Approved && !now.Before(kn.FirstSeen.Add(s.cfg.Approve.After)) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.startRequests(ctx, ids); err != nil {
		return err
	}
	for _, id := range ids {
		kn := next[id]
		kn.Approved = true
		next[id] = kn
	}
	return nil
}

// startRequests approves ids: POST {"StartRequests":[{"EventId":...}]}
// to the Scheduled Events URL, answered 200 (even for an event approved
// before).
func (s *azureSource) startRequests(ctx context.Context, ids []string) error {
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
	_, err = s.http.do(ctx, "azure approve scheduled events", req, http.StatusOK)
	return err
}

// approvalEvents reports the events approve just approved.
func (s *azureSource) approvalEvents(doc azureDoc, next map[string]knownEvent) ([]pipeline.Event, error) {
	var out []pipeline.Event
	for _, e := range doc.Events {
		kn, ok := next[e.EventID]
		if !ok || !kn.Approved || s.track.known[e.EventID].Approved {
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
