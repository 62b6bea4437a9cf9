package hostpluginsink

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestBuiltinObservationsNeedEngineEvents checks issue 13 item 7: the
// built-in heartbeat mapping forwards only a hostplugin probe's own
// events, not the same event from another source (an ingest client).
func TestBuiltinObservationsNeedEngineEvents(t *testing.T) {
	t.Parallel()
	cfg := &Config{Endpoint: DefaultEndpoint, Source: "s", BuiltinObservations: true}
	m, err := compileMapping(cfg)
	require.NoError(t, err)
	ev := pipeline.Event{ID: "h", Type: typeProbeHeartbeat, Source: "/sluice/sources/hgap", Origin: "hgap",
		DataContentType: "application/json", Data: []byte(`{"kind":"hostplugin","healthy":true}`)}
	_, err = m.observe(&pipeline.Delivery{Event: ev, Route: "r"})
	require.NoError(t, err, "the probe's own heartbeat maps")
	forged := ev
	forged.Source, forged.Origin = "/cloud", "ingest"
	_, err = m.observe(&pipeline.Delivery{Event: forged, Route: "r"})
	assert.ErrorIs(t, err, ErrUnmapped, "a forged heartbeat is not forwarded")
}
