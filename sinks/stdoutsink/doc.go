// Package stdoutsink implements the "stdout" sink: it writes every event as
// one line to standard output (or, in tests, any io.Writer), either as
// CloudEvents structured JSON with the "sequence" extension (format
// "json", the same lines the file sink writes) or as a one-line summary
// for people (format "text"):
//
//	2025-01-02T03:04:05.600Z #3 WARNING /probe/web sluice.probe.state web
//
// The text line holds the time, the journal sequence, the severity, the
// source, the type and, if set, the subject; values with spaces, quotes or
// control characters are quoted as Go strings, so an event can never forge
// a line of its own.
//
// Each batch is written with one Write call, and writes of all stdout sinks
// in the process are serialized, so lines of different sinks do not
// interleave. There is no fsync: a delivered batch has been handed to the
// writer, nothing more.
package stdoutsink
