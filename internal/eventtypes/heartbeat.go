package eventtypes

import "time"

// Heartbeat is Sluice's own liveness, emitted by the heartbeat source every
// interval (its `type` setting may rename it). The VES sink sends it as a
// heartbeat.
const Heartbeat = "sluice.heartbeat"

// HeartbeatData is the data of a Heartbeat event.
type HeartbeatData struct {
	// Host is the host name.
	Host string `json:"host"`
	// Counter counts heartbeats from 1; it survives restarts (source
	// state in the journal).
	Counter uint64 `json:"counter"`
	// Started is when this process's source started.
	Started time.Time `json:"started"`
	// UptimeSeconds is the time since Started.
	UptimeSeconds float64 `json:"uptime_seconds"`
	// Interval is the configured interval, as a Go duration ("10s").
	Interval string `json:"interval"`
}
