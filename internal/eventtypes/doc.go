// Package eventtypes is Sluice's event vocabulary: every event type that a
// built-in source emits (or that a built-in sink or source handles), each
// with the Go type of its data, documented once here. Sources build their
// data with these types and set these constants as Event.Type; sinks read
// the same constants and decode the same types, so that a renamed member is
// a compile error rather than a silent mismatch between a source and a sink.
//
// # Names
//
// Types are namespaced with the Prefix "sluice." and then the domain:
//
//	sluice.heartbeat              Sluice's own liveness (heartbeat source)      HeartbeatData
//	sluice.probe.state            a probe changed state (probe source)           ProbeData
//	sluice.probe.heartbeat        a probe's current state, periodically          ProbeData
//	sluice.probe.result           every check, when results are on               ProbeData
//	sluice.probe.failure          reserved: failures as events of their own      (none)
//	sluice.probe.fault            reserved: as sluice.probe.failure              (none)
//	sluice.hostplugin.versions    a hostplugin probe's /versions answer          HostPluginVersionsData
//	sluice.vm.fault               a VM's fault episode began (vmfault source)    VMFaultData
//	sluice.vm.fault.cleared       it ended: recovered, deleted or unwatched      VMFaultData
//	sluice.vm.maintenance         scheduled maintenance of this VM               VMMaintenanceData
//	sluice.vm.maintenance.approve approve a maintenance event (to the source)    VMMaintenanceApproveData
//	sluice.lb.request             a load-balancer request, journaled             LBRequestData
//	sluice.lb.state               a load balancer changed state                  LBStateData
//
// A type ending in ".cleared" clears the alarm its base type raised (the
// VES sink pairs sluice.vm.fault.cleared with sluice.vm.fault). Events of
// other sources (the generic http ingest) keep the types their senders
// chose; this list is what Sluice itself emits.
//
// # Data
//
// All data is JSON (ContentType, application/json). Member names are
// snake_case, times are RFC 3339 in UTC, absent optional members are left
// out rather than written as null. A member is never renamed or given a
// new meaning: routes, CEL matches, sink rules and archives depend on
// them; add a member instead.
//
// Adding a type: add its constant and data type in the file of its domain
// and an entry to All; TestRoundTrip then covers its data, and
// TestNoEventTypeLiterals keeps sources and sinks on the constant.
package eventtypes
