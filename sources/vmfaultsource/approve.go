package vmfaultsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// TypeMaintenanceApprove asks the source (provider azure) to approve a
// scheduled maintenance event; a route hands it over through the
// `source` sink.
const TypeMaintenanceApprove = eventtypes.VMMaintenanceApprove

// ErrNotApprovable is returned (wrapped, permanent) for an approval the
// source can never carry out: an event it does not know, or one that
// has started or ended.
var ErrNotApprovable = errors.New("maintenance event cannot be approved")

var _ pipeline.EventHandler = (*azureSource)(nil)

// approval is a batch of approvals for the loop: the event ids and, for
// each, the index of its delivery.
type approval struct {
	ids   []string
	index []int
	// result gets the loop's answer: the per-delivery failures (index
	// into the batch) and a transient error for the whole request.
	result chan approvalResult
}

type approvalResult struct {
	failed []pipeline.DeliveryFailure
	err    error
}

// HandleEvents implements pipeline.EventHandler: each delivery is a
// sluice.vm.maintenance.approve event (data event_id, and provider azure
// if given; a sluice.vm.maintenance event transformed to that type
// carries both) that the source approves with StartRequests. It returns
// once Azure answered and the approved state is in the journal. An event
// of another type, without an event_id, of another provider, unknown to
// the source or no longer scheduled is a permanent failure of its
// delivery; an event approved before succeeds again. A failed
// StartRequests or journal append is transient (the sink retries).
func (s *azureSource) HandleEvents(ctx context.Context, batch []pipeline.Delivery) error {
	var failed []pipeline.DeliveryFailure
	req := approval{result: make(chan approvalResult, 1)}
	for i, d := range batch {
		id, err := approvalOf(d.Event)
		if err != nil {
			failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: pipeline.Permanent(err)})
			continue
		}
		req.ids, req.index = append(req.ids, id), append(req.index, i)
	}
	if len(req.ids) > 0 {
		select {
		case s.jobs <- func(ctx context.Context, host pipeline.SourceHost) { req.result <- s.approveNow(ctx, host, req) }:
		case <-s.done:
			return fmt.Errorf("vmfault source %s: %w", s.set.ID, pipeline.ErrSourceNotRunning)
		case <-ctx.Done():
			return ctx.Err()
		}
		var res approvalResult
		select {
		case res = <-req.result:
		case <-ctx.Done():
			return ctx.Err()
		}
		if res.err != nil {
			return res.err
		}
		failed = append(failed, res.failed...)
	}
	if len(failed) > 0 {
		return &pipeline.BatchError{Failed: failed}
	}
	return nil
}

// approvalOf reads the event id an approval names.
func approvalOf(e pipeline.Event) (string, error) {
	if e.Type != TypeMaintenanceApprove {
		return "", fmt.Errorf("%w: event %s is a %s, not a %s", ErrNotApprovable, e.ID, e.Type, TypeMaintenanceApprove)
	}
	var d eventtypes.VMMaintenanceApproveData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return "", fmt.Errorf("%w: event %s: data: %w", ErrNotApprovable, e.ID, err)
	}
	switch {
	case d.EventID == "":
		return "", fmt.Errorf("%w: event %s: no event_id", ErrNotApprovable, e.ID)
	case d.Provider != "" && d.Provider != ProviderAzure:
		return "", fmt.Errorf("%w: event %s: provider %q, not azure", ErrNotApprovable, e.ID, d.Provider)
	}
	return d.EventID, nil
}

// approveNow runs on the loop's goroutine: it approves the scheduled
// events of r not approved yet, then emits their approved state.
func (s *azureSource) approveNow(ctx context.Context, host pipeline.SourceHost, r approval) approvalResult {
	var res approvalResult
	var ids []string
	for i, id := range r.ids {
		kn, ok := s.track.known[id]
		switch {
		case !ok:
			res.failed = append(res.failed, pipeline.DeliveryFailure{Index: r.index[i],
				Err: pipeline.Permanent(fmt.Errorf("%w: %s is not a scheduled event of %s", ErrNotApprovable, id, s.vm))})
		case kn.Approved:
		case kn.State != MaintenanceScheduled:
			res.failed = append(res.failed, pipeline.DeliveryFailure{Index: r.index[i],
				Err: pipeline.Permanent(fmt.Errorf("%w: %s is %s", ErrNotApprovable, id, kn.State))})
		default:
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return res
	}
	if err := s.startRequests(ctx, ids); err != nil {
		res.err = err
		return res
	}
	now := s.set.Clock.Now().UTC()
	next := maps.Clone(s.track.known)
	events := make([]pipeline.Event, 0, len(ids))
	for _, id := range ids {
		kn := next[id]
		kn.Approved = true
		next[id] = kn
		d := maintenanceData{Provider: ProviderAzure, EventID: id, Kind: kn.Type, VM: s.vm, NotBefore: kn.NotBefore}
		for _, e := range s.doc.Events {
			if e.EventID == id {
				d = azureData(e, s.doc.Incarnation, s.vm)
			}
		}
		ev, err := maintenanceEvent(id, MaintenanceApproved, d, now)
		if err != nil {
			res.err = err
			return res
		}
		events = append(events, ev)
	}
	if err := emitMaintenance(ctx, host, s.track, next, events, s.tel, s.set.Logger); err != nil {
		res.err = err
		return res
	}
	s.set.Logger.Info("vm maintenance approved on request", slog.Any("event_ids", ids))
	return res
}
