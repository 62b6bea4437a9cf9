// Package stdoutsink implements the "stdout" sink: it writes every event as
// one line to standard output (or, in tests, any io.Writer), either as
// CloudEvents structured JSON with the "sequence" extension (format
// "json", the same lines the file sink writes) or as a one-line summary
// for people (format "text"):
//
//	2025-01-02T03:04:05.600Z #3 WARNING /probe/web sluice.probe.state web {"state":"unhealthy","reason":"timeout"}
//
// The text line holds the time, the journal sequence, the severity, the
// source, the type, the subject ("-" when there is none but there is
// data) and the data: JSON compacted onto the line, text and JSON that
// does not parse quoted as a Go string, anything else as
// <N bytes CONTENT-TYPE>. At most 256 bytes of data are shown, cut at a
// character boundary and followed by …(N bytes). Values with spaces,
// quotes, control or format characters or invalid UTF-8 are quoted as Go
// strings (JSON data holding any is quoted whole), so an event can never
// forge a line of its own or hide text on a terminal.
//
// Each batch is written with one Write call, and writes of all stdout sinks
// in the process are serialized, so lines of different sinks do not
// interleave. There is no fsync: a delivered batch has been handed to the
// writer, nothing more.
//
// Like every sink, it resumes after the last event it delivered when the
// engine restarts. Standard output is whatever the engine was started
// with: redirected with `>` the shell truncates the file at every start,
// so the file then holds only what the last run wrote; use `>>` (or the
// file sink) to keep every line across restarts.
package stdoutsink
