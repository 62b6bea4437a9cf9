package vmfaultsource

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/internal/fakeimds"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// approveDelivery is a delivery of an approval of id, as a route's
// transform of the scheduled event makes it (the maintenance data with
// the approve type).
func approveDelivery(t *testing.T, typ string, d any) pipeline.Delivery {
	t.Helper()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	return pipeline.Delivery{Event: pipeline.Event{ID: "e-" + typ, Type: typ, DataContentType: eventtypes.ContentType, Data: b}}
}

// batchFailures returns the permanent failures of a BatchError by index.
func batchFailures(t *testing.T, err error) map[int]error {
	t.Helper()
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	out := map[int]error{}
	for _, f := range be.Failed {
		var pe *pipeline.PermanentError
		require.ErrorAs(t, f.Err, &pe, "delivery %d: %v", f.Index, f.Err)
		require.ErrorIs(t, f.Err, ErrNotApprovable)
		out[f.Index] = f.Err
	}
	return out
}

// A route's approval (HandleEvents) of a scheduled event is one
// StartRequests POST with its EventId and one approved event, committed
// before HandleEvents returns; approving again is a success without a
// second POST; a started event, an unknown one, another type or another
// provider are permanent failures of their own deliveries only.
func TestAzureApproveThroughARoute(t *testing.T) {
	f := newIMDS(t)
	f.ServeSample(fakeimds.LiveMigration[1])
	src, err := NewFactory().NewSource(t.Context(), pipeline.NopSettings("az"), azConfig(f))
	require.NoError(t, err)
	h, ok := src.(pipeline.EventHandler)
	require.True(t, ok, "the azure source takes events")
	host := pipelinetest.NewRecordingHost("az")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, host) }()
	defer func() { cancel(); assert.NoError(t, <-done) }()

	scheduled := maintEvents(t, host, 1)[0]
	require.Equal(t, MaintenanceScheduled, scheduled.data.State)
	assert.True(t, scheduled.data.Approvable)
	assert.Empty(t, f.Approved(), "nothing approves by itself without approve.after")

	ok1 := approveDelivery(t, TypeMaintenanceApprove, scheduled.data)
	f.FailApprovals(1)
	err = h.HandleEvents(t.Context(), []pipeline.Delivery{ok1})
	require.Error(t, err)
	var be *pipeline.BatchError
	var pe *pipeline.PermanentError
	assert.False(t, errors.As(err, &be) || errors.As(err, &pe), "a failed StartRequests is transient: %v", err)
	assert.Len(t, host.Events(), 1, "nothing marked")
	require.NoError(t, h.HandleEvents(t.Context(), []pipeline.Delivery{ok1}))
	assert.Equal(t, []string{docEventID}, f.Approved())
	evs := maintEvents(t, host, 2)
	assert.Equal(t, []string{MaintenanceScheduled, MaintenanceApproved}, states(evs))
	state, err := host.State(t.Context())
	require.NoError(t, err)
	var kn knownEvent
	require.NoError(t, json.Unmarshal(state[azureKeyPrefix+docEventID], &kn))
	assert.True(t, kn.Approved, "the approval is in the state with its event")

	err = h.HandleEvents(t.Context(), []pipeline.Delivery{
		ok1,
		approveDelivery(t, TypeMaintenance, scheduled.data),
		approveDelivery(t, TypeMaintenanceApprove, eventtypes.VMMaintenanceApproveData{EventID: "no-such-event"}),
		approveDelivery(t, TypeMaintenanceApprove, eventtypes.VMMaintenanceApproveData{EventID: docEventID, Provider: ProviderAWS}),
		approveDelivery(t, TypeMaintenanceApprove, map[string]any{"event_id": 7}),
		approveDelivery(t, TypeMaintenanceApprove, eventtypes.VMMaintenanceApproveData{}),
	})
	assert.Equal(t, []int{1, 2, 3, 4, 5}, keys(batchFailures(t, err)))
	assert.Equal(t, []string{docEventID}, f.Approved(), "approved once")
	assert.Len(t, host.Events(), 2)

	f.ServeSample(fakeimds.LiveMigration[2]) // Started
	maintEvents(t, host, 3)
	err = h.HandleEvents(t.Context(), []pipeline.Delivery{approveDelivery(t, TypeMaintenanceApprove,
		eventtypes.VMMaintenanceApproveData{EventID: docEventID})})
	require.NoError(t, err, "an event approved before stays approved")

	cancel()
	require.NoError(t, <-done)
	done <- nil
	err = h.HandleEvents(t.Context(), []pipeline.Delivery{ok1})
	require.ErrorIs(t, err, pipeline.ErrSourceNotRunning)
	assert.NotErrorAs(t, err, &pe, "a stopped source is transient")
}

// A started event that was never approved cannot be approved, even when
// the document steps back to Scheduled.
func TestAzureApproveRefusals(t *testing.T) {
	f := newIMDS(t)
	f.ServeSample(fakeimds.LiveMigration[2]) // Started at once (as a hardware failure)
	src, err := NewFactory().NewSource(t.Context(), pipeline.NopSettings("az"), azConfig(f))
	require.NoError(t, err)
	h := src.(pipeline.EventHandler)
	host := pipelinetest.NewRecordingHost("az")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, host) }()
	defer func() { cancel(); assert.NoError(t, <-done) }()
	started := maintEvents(t, host, 1)[0]
	assert.False(t, started.data.Approvable)
	err = h.HandleEvents(t.Context(), []pipeline.Delivery{approveDelivery(t, TypeMaintenanceApprove, started.data)})
	assert.Equal(t, []int{0}, keys(batchFailures(t, err)))
	assert.Empty(t, f.Approved())

	f.ServeSample(fakeimds.LiveMigration[1]) // a step back to Scheduled is not reported
	waitGets(t, f, 2)
	tctx, tcancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer tcancel()
	err = h.HandleEvents(tctx, []pipeline.Delivery{approveDelivery(t, TypeMaintenanceApprove, started.data)})
	assert.Equal(t, []int{0}, keys(batchFailures(t, err)), "still started")
}

func keys(m map[int]error) []int {
	out := make([]int, 0, len(m))
	for i := range 10 {
		if _, ok := m[i]; ok {
			out = append(out, i)
		}
	}
	return out
}
