package vmfaultsource

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/sluice-dev/sluice/internal/eventtypes"

	"github.com/sluice-dev/sluice/pipeline"
)

// maintenanceData is the data of sluice.vm.maintenance events.
type maintenanceData = eventtypes.VMMaintenanceData

func azureData(e azureEvent, incarnation int64, vm string) maintenanceData {
	d := maintenanceData{
		Provider: ProviderAzure, EventID: e.EventID, Kind: e.EventType, Status: e.EventStatus,
		ResourceType: e.ResourceType, Resources: e.Resources, NotBefore: e.notBefore, Description: e.Description,
		Origin: e.EventSource, DocumentIncarnation: incarnation, VM: vm,
	}
	if e.DurationInSeconds != nil && *e.DurationInSeconds > 0 && *e.DurationInSeconds < 1<<31 { // 0 none, -1 unknown
		d.DurationSeconds = int(*e.DurationInSeconds)
	}
	return d
}

// maintenanceEvent is one sluice.vm.maintenance event; its id is the
// provider's event id and the state, the same across polls and restarts.
func maintenanceEvent(id, state string, d maintenanceData, now time.Time) (pipeline.Event, error) {
	d.State = state
	b, err := json.Marshal(d)
	if err != nil {
		return pipeline.Event{}, err
	}
	sev := pipeline.SeverityWarning
	if state == MaintenanceCompleted || state == MaintenanceCancelled {
		sev = pipeline.SeverityInfo
	}
	return pipeline.Event{
		ID: d.Provider + "-" + id + "-" + state, Type: TypeMaintenance, Subject: id, Time: now, Severity: sev,
		DataContentType: eventtypes.ContentType, Data: b,
	}, nil
}

// emitMaintenance emits events with the state updates that make next the
// tracker's known events, then commits next. Nothing is emitted when
// nothing changed.
func emitMaintenance(ctx context.Context, host pipeline.SourceHost, t *tracker, next map[string]knownEvent,
	events []pipeline.Event, tel *telemetry, log *slog.Logger,
) error {
	state, err := t.updates(next)
	if err != nil {
		return err
	}
	if len(events) == 0 && len(state) == 0 {
		return nil
	}
	if _, err := host.Emit(ctx, events, state...); err != nil {
		return fmt.Errorf("%w: %w", errEmit, err)
	}
	t.known = next
	for _, e := range events {
		var d struct {
			State string `json:"state"`
		}
		_ = json.Unmarshal(e.Data, &d)
		tel.add(ctx, tel.maintenance, 1, attribute.String("state", d.State))
		log.Info("vm maintenance", slog.String("event_id", e.Subject), slog.String("state", d.State))
	}
	return nil
}

// newMetadataClient is the client of an instance metadata service: plain
// HTTP to a link-local address, no proxy, no redirects.
func newMetadataClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// job is work handed to a metadata loop, run on its goroutine between
// two polls (an approval a route asked for).
type job func(ctx context.Context, host pipeline.SourceHost)

// runMetadataLoop restores the tracker's known events, then calls poll
// (retried until it succeeds) every interval until ctx ends, running the
// jobs that arrive between polls.
func runMetadataLoop(ctx context.Context, host pipeline.SourceHost, set pipeline.Settings, every time.Duration,
	t *tracker, r *retrier, h *httpDoer, what string, poll func(context.Context, pipeline.SourceHost) error, jobs <-chan job,
) error {
	defer h.client.CloseIdleConnections()
	state, err := host.State(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("load vmfault state: %w", err)
	}
	t.restore(state, set.Logger)
	for {
		if !r.run(ctx, what, func(ctx context.Context) error { return poll(ctx, host) }) {
			return nil
		}
		if !idle(ctx, host, set.Clock, every, jobs) {
			return nil
		}
	}
}

// idle waits d on clock, running the jobs that arrive meanwhile; false if
// ctx ended first.
func idle(ctx context.Context, host pipeline.SourceHost, clock pipeline.Clock, d time.Duration, jobs <-chan job) bool {
	if jobs == nil {
		return sleep(ctx, clock, d)
	}
	t := clock.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C():
			return true
		case <-ctx.Done():
			return false
		case j := <-jobs:
			j(ctx, host)
		}
	}
}
