package vessink_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// Encode (the sluice test preview) shows the request bodies Deliver
// POSTs, byte for byte, using the alarm table without changing it.
func TestEncodeShowsWhatDeliverSends(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	cfg := testConfig(c, pki)
	cfg.MaxBatchEvents = 2
	state := pipeline.NewMemoryState(nil)
	s := startSink(t, pipeline.Settings{ID: "ves", State: state}, cfg)
	enc, ok := s.(pipeline.Encoder)
	require.True(t, ok, "the ves sink is a pipeline.Encoder")

	// A raise delivered first: the clear in the batch resolves to it.
	raise := delivery(20, "sluice.vm.fault", "vm9", t0.Add(-time.Hour), pipeline.SeverityCritical, nil)
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{raise}))
	state.TakeChanges("test")
	before := state.All()
	sent := len(c.Requests())

	batch := append(mixedBatch(),
		delivery(21, "sluice.vm.fault.cleared", "vm9", t0, pipeline.SeverityInfo, nil),
		delivery(22, "sluice.heartbeat", "vm17", t0, pipeline.SeverityInfo, heartbeatData(2, "1m0s")))
	got, err := enc.Encode(batch)
	require.NoError(t, err)
	again, err := enc.Encode(batch)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "Encode changes no state")
	assert.Equal(t, before, state.All(), "Encode changes no sink state")
	assert.Empty(t, state.TakeChanges("test"))
	assert.Len(t, c.Requests(), sent, "Encode sends nothing")
	// The alarms Encode raised and cleared are not in the sink's table:
	// the next Deliver has none to save.
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{
		delivery(30, "sluice.lb.request", "lb", t0, pipeline.SeverityInfo, map[string]any{"n": 30}),
	}))
	assert.Empty(t, state.TakeChanges("test"), "Encode left no alarm behind")
	sent = len(c.Requests())

	require.NoError(t, s.Deliver(t.Context(), batch))
	c.requireConforming(t)
	var want strings.Builder
	for _, r := range c.Requests()[sent:] {
		want.Write(r.Body)
		want.WriteByte('\n')
	}
	assert.Equal(t, want.String(), string(got))
	assert.Contains(t, string(got), `"eventList"`)
}

// An event that cannot be expressed in VES is Encode's error.
func TestEncodeUnmappable(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
	_, err := s.(pipeline.Encoder).Encode([]pipeline.Delivery{
		delivery(1, "sluice.probe.state", "web", t0, pipeline.SeverityInfo, map[string]any{"to": "weird"}),
	})
	require.Error(t, err)
}
