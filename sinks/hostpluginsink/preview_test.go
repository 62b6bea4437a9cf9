package hostpluginsink_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

// Encode (the sluice test preview) shows the HealthService payloads
// Deliver POSTs, byte for byte and in order, judging report periods on
// a copy of the observations' states.
func TestEncodeShowsWhatDeliverSends(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	state := pipeline.NewMemoryState(nil)
	set := pipeline.NopSettings("h")
	set.State = state
	s := newSink(t, testConfig(t, hostPort(srv.Server)), set)
	enc, ok := s.(pipeline.Encoder)
	require.True(t, ok, "the hostplugin sink is a pipeline.Encoder")

	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(epoch, true)}))
	state.TakeChanges("test")
	before := state.All()
	sent := len(srv.got())

	// Inside the report period: Deliver would post nothing.
	got, err := enc.Encode([]pipeline.Delivery{heartbeat(epoch.Add(10*time.Second), true)})
	require.NoError(t, err)
	assert.Empty(t, string(got))

	batch := []pipeline.Delivery{
		heartbeat(epoch.Add(30*time.Second), true),
		{Event: versionsEvent(epoch.Add(40*time.Second), false, "[HTTP Failed] [500: Internal Server Error] b'x'"), Route: "health"},
		heartbeat(epoch.Add(61*time.Second), false),
		heartbeat(epoch.Add(75*time.Second), false),
	}
	got, err = enc.Encode(batch)
	require.NoError(t, err)
	again, err := enc.Encode(batch)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "Encode changes no state")
	assert.Equal(t, before, state.All(), "Encode changes no sink state")
	assert.Empty(t, state.TakeChanges("test"))
	assert.Len(t, srv.got(), sent, "Encode sends nothing")

	require.NoError(t, s.Deliver(t.Context(), batch))
	var want strings.Builder
	for _, r := range srv.got()[sent:] {
		want.Write(r.Body)
		want.WriteByte('\n')
	}
	assert.Equal(t, 2, strings.Count(want.String(), "\n"), "one POST per observation")
	assert.Equal(t, want.String(), string(got))
	assert.Contains(t, string(got), hostpluginsink.NameVersions)
}

// An event no rule maps is Encode's error.
func TestEncodeUnmapped(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	s := newSink(t, testConfig(t, hostPort(srv.Server)), pipeline.NopSettings("h"))
	e := probeEvent("sluice.probe.state", epoch, true, "")
	e.Data = []byte(`{"kind":"http","healthy":true}`)
	_, err := s.(pipeline.Encoder).Encode([]pipeline.Delivery{{Event: e, Route: "health"}})
	require.ErrorIs(t, err, hostpluginsink.ErrUnmapped)
}
