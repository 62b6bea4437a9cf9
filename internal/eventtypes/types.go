package eventtypes

import "strings"

// Prefix starts every event type Sluice emits.
const Prefix = "sluice."

// ContentType is the datacontenttype of every event listed here.
const ContentType = "application/json"

// Info describes one event type of the vocabulary.
type Info struct {
	// Type is the event type, one of the constants of this package.
	Type string
	// Doc says when it is emitted, in one line.
	Doc string
	// Data returns a new zero value of the type of its data, or nil for a
	// reserved type that no built-in source emits yet.
	Data func() any
}

// All lists the vocabulary, in the order of the package documentation.
func All() []Info {
	return []Info{
		{Heartbeat, "Sluice's own liveness, every interval", func() any { return new(HeartbeatData) }},
		{ProbeState, "a probe changed state", func() any { return new(ProbeData) }},
		{ProbeHeartbeat, "a probe's current state, periodically", func() any { return new(ProbeData) }},
		{ProbeResult, "every check of a probe, when results are on", func() any { return new(ProbeData) }},
		{ProbeFailure, "reserved: probe failures as events of their own", nil},
		{ProbeFault, "reserved: as sluice.probe.failure", nil},
		{HostPluginVersions, "a hostplugin probe's /versions answer", func() any { return new(HostPluginVersionsData) }},
		{VMFault, "a VM's fault episode began", func() any { return new(VMFaultData) }},
		{VMFaultCleared, "a VM's fault episode ended", func() any { return new(VMFaultData) }},
		{VMMaintenance, "scheduled maintenance of this VM was announced, started, cancelled or completed", func() any { return new(VMMaintenanceData) }},
		{VMMaintenanceApprove, "approve a scheduled maintenance event (handled by the vmfault source)", func() any { return new(VMMaintenanceApproveData) }},
		{LBRequest, "a load-balancer request, journaled before it is answered", func() any { return new(LBRequestData) }},
		{LBState, "a load balancer changed state", func() any { return new(LBStateData) }},
	}
}

// Lookup returns the vocabulary entry of typ.
func Lookup(typ string) (Info, bool) {
	for _, info := range All() {
		if info.Type == typ {
			return info, true
		}
	}
	return Info{}, false
}

// IsSluice reports whether typ is in Sluice's namespace (starts with
// Prefix), whether or not this package lists it.
func IsSluice(typ string) bool { return strings.HasPrefix(typ, Prefix) }
