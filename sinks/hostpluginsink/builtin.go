package hostpluginsink

import "github.com/sluice-dev/sluice/internal/eventtypes"

// Event types of sources/probesource that the built-in mapping reads.
const (
	typeProbeState     = eventtypes.ProbeState
	typeProbeHeartbeat = eventtypes.ProbeHeartbeat
	typeProbeResult    = eventtypes.ProbeResult
	typeVersions       = eventtypes.HostPluginVersions
)

// builtinObservations returns the default mapping from the events of a
// hostplugin probe (sources/probesource) to WALinuxAgent's observations;
// the package documentation describes it.
func builtinObservations() []ObservationConfig {
	hostPlugin := func() map[string]string { return map[string]string{"data.kind": "hostplugin"} }
	return []ObservationConfig{
		{
			// SendHostPluginHeartbeat: the /health check's own result
			// feeds the error state, which starts when the probe's
			// failure streak began; Description and Value stay empty.
			Name:         NameHeartbeat,
			Types:        []string{typeProbeState, typeProbeHeartbeat, typeProbeResult},
			When:         hostPlugin(),
			Healthy:      HealthyConfig{From: "data.healthy"},
			FailingSince: "data.failing_since",
		},
		{
			// get_api_versions: healthy unless the plugin itself failed;
			// Value is read_response_error's text.
			Name:    NameVersions,
			Types:   []string{typeVersions},
			When:    hostPlugin(),
			Healthy: HealthyConfig{From: "data.healthy"},
			Value:   "data.value",
		},
	}
}
