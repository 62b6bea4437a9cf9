// Package heartbeatsource emits Sluice's own liveness: one
// "sluice.heartbeat" event every interval, carrying the host name, the
// process start time, uptime and a counter. Routes send it to sinks that
// need a periodic sign of life (the VES heartbeat domain, a file), and the
// embedded default configuration uses it to show events flowing.
//
// The counter survives restarts: it is kept in the source's journal state,
// written in the same transaction as each heartbeat.
package heartbeatsource
