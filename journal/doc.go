// Package journal is Sluice's durable event log: a directory of bbolt files
// ("segments") holding every event in sequence order, with per-consumer
// cursors and per-source state kept atomically beside the events.
// *Journal implements pipeline.Journal and passes journal/journaltest.
//
// # Basics
//
// Open(dir, opts) opens or creates a journal; Close releases it. Sources
// call Append with an AppendBatch; it returns after the batch is on disk.
// Sinks call Cursor to learn where to start, Read to get records (blocking
// when they are at the head) and CommitCursor to record progress. Scan
// iterates a range with bounded memory for export and replay, and Verify
// checks the whole journal's integrity. Options.ReadOnly opens a stopped
// engine's journal for inspection.
//
// # Directory layout
//
//	dir/                               mode 0700
//	  LOCK                             flock: exclusive for a writer (holds its PID), shared for readers
//	  00000000000000000001.seg         segment files, 0600, named by their first sequence
//	  00000000000000052731.seg         the newest segment is the active one
//
// # Buckets and keys
//
// Every segment is a bbolt database with these buckets:
//
//	meta      format   1 byte, segment format version (1)
//	          first    8 bytes big-endian: the segment's first sequence (equals the file name)
//	          prev     32 bytes: chain hash of the record before first (zero for sequence 1)
//	          created  8 bytes big-endian: creation time, unix nanoseconds
//	records   key:   8-byte big-endian sequence (bytewise order is sequence order)
//	          value: a record (below)
//	cursors   consumer name -> 8-byte big-endian next sequence to read
//	state     one nested bucket per source: key -> value (AppendBatch.State)
//	journal   floor   -> oldest retained sequence (8 bytes)
//	          dropped -> records dropped unread by drop_oldest (8 bytes)
//
// Only the active segment's cursors, state and journal buckets are
// authoritative. Rotation copies them into the new segment in the same
// transaction that writes its meta and its first records, so cursors and
// state are always in the same file, and the same transaction, as the
// events they describe. A sealed segment is never written again.
//
// # Record format
//
//	offset size
//	0      1    record version (1)
//	1      4    CRC32C (Castagnoli), big-endian, over bytes 5.. of the value followed by the 8-byte key
//	5      8    append time, unix nanoseconds, big-endian
//	13     32   chain hash = SHA-256(previous record's chain hash || seq (8, BE) || append time (8, BE) || payload)
//	45     n    payload: the event encoding
//
// The CRC catches torn or flipped bytes cheaply and covers the key, so a
// record moved to another key is caught too. The chain hash links each
// record to all before it, so any change, insertion or deletion breaks
// every later link; each segment's meta carries the hash its first record
// chains from, which makes the chain continuous across files.
//
// # Event encoding
//
// A hand-written, length-prefixed binary codec (MarshalEvent,
// UnmarshalEvent):
//
//	version (1 byte, 1) | flags (1 byte; bit 0: has time)
//	id | source | type | subject                  uvarint length + bytes each
//	[time: varint unix seconds, uvarint nanoseconds]   only if flag bit 0
//	datacontenttype | dataschema                  uvarint length + bytes
//	severity (1 byte, int8) | traceparent         uvarint length + bytes
//	origin (the emitting source's name)           uvarint length + bytes
//	extension count (uvarint), then key, value pairs in key order
//	data                                          uvarint length + bytes
//
// A zero Event.Time is stored as "no time" and read back as the record's
// append time. Event.Sequence is the key and not repeated. Decoding checks
// every length against the input, rejects unknown versions and flags,
// duplicate extensions and trailing bytes, and returns ErrMalformed rather
// than panicking (fuzzed). Why not the alternatives: JSON costs
// reflection, escaping and several times the bytes and CPU on the hot
// path, and needs base64 for Data; gob carries type descriptions per
// stream and decodes through reflection; protobuf would add generated code
// and a dependency for a record whose shape is fixed by CloudEvents. The
// binary codec encodes without reflection into a reused buffer, decodes
// with one allocation per record (strings alias one copied buffer), and the
// version byte leaves room to evolve. Export produces CloudEvents JSON
// for humans and tools; the journal format is internal.
//
// # Durability and group commit
//
// Append returns only after the bbolt transaction holding its batch has
// been committed and fsync'd (bbolt syncs the data pages, then the meta
// page). NoSync is never used. Throughput comes from group commit: one
// committer goroutine owns all writes; appenders encode their events in
// their own goroutines and queue them; while a transaction commits, newly
// arriving batches queue up and all join the next transaction, up to
// Options.MaxBatchBytes. The committer only assigns sequences, computes the
// CRC and chain hash in place, and puts the records. New segment files
// and removed ones are made durable with a directory fsync.
//
// Cancelling an Append's ctx while its batch is still queued abandons it;
// once the committer has taken it, it is committed and Append waits for
// the outcome. A batch is atomic: events and state updates commit together
// or not at all.
//
// Cursor commits are in memory (monotonic) and become durable with the
// next append transaction, after Options.CursorFlushInterval in a small
// transaction of their own, or at Close: a crash can re-deliver records
// whose cursor commit was not yet flushed (at-least-once).
//
// # Segments and retention
//
// The active segment is rotated when its bbolt data size reaches
// Options.SegmentMaxBytes or it is older than Options.SegmentMaxAge
// (checked when the next batch commits). Retention removes whole sealed
// segment files, oldest first, so disk space really returns (bbolt files
// never shrink):
//
//   - by age: a segment whose newest record is older than RetentionMaxAge;
//   - by size: while the segment files plus the incoming batch exceed
//     RetentionMaxBytes.
//
// A segment holding a record some registered cursor has not consumed is
// never removed, except by size under FullPolicyDropOldest, which removes
// it anyway and counts the unread records in JournalStats.Dropped, the
// sluice.journal.dropped metric and a warning log. Under FullPolicyRefuse
// (the default) Append fails with a *FullError matching
// pipeline.ErrJournalFull until cursors move on; a full disk (ENOSPC)
// gives the same error. Nothing stored is harmed, and appends succeed again
// once space is freed. Retention runs at each rotation, when the limit is
// hit and every Options.RetentionInterval. The new oldest sequence (the
// floor) is committed before files are unlinked, so a crash in between
// leaves files the next Open removes, and Verify can tell segments removed
// by retention from segments deleted by hand.
//
// # Opening and recovery
//
// Open takes dir/LOCK with flock(LOCK_EX|LOCK_NB) (LOCK_SH for read-only),
// so a second process fails at once with ErrInUse naming the holder's PID.
// It reads only the newest segment: a newest segment without meta (a crash
// during rotation, before its first transaction committed) is removed; the
// last records are checked (CRC, sequence, chain links, decoding) and
// damage is reported as a *CorruptionError. Older segments are opened,
// read-only and memory-mapped, on first use. bbolt panics and memory
// faults on a damaged file are turned into a *CorruptionError.
//
// # Telemetry
//
// Metrics (scope github.com/sluice-dev/sluice/journal): sluice.journal.appended
// {event}, sluice.journal.appended.bytes, sluice.journal.append.failed
// {batch, by reason}, sluice.journal.commit.duration (s, histogram),
// sluice.journal.commit.group.size ({event}, histogram),
// sluice.journal.segments and sluice.journal.size (gauges),
// sluice.journal.retention.removed {segment} and sluice.journal.dropped
// {event}. Each Append has a span named journal.append. Rotation,
// retention and recovery are logged with slog.
//
// # Caveats
//
//   - Records returned by Read and Scan are copies; nothing aliases bbolt
//     memory, which is only valid inside a transaction.
//   - The chain cannot reveal records cut from the very end of the
//     journal (or a whole journal replaced); compare JournalStats.HeadHash
//     with a value kept elsewhere for that.
//   - Open checks only the tail; run Verify to check everything.
//   - Rotation by age and idle retention happen on the committer's
//     schedule: a journal that receives no appends keeps its active
//     segment however old.
//   - Sizes are file sizes: bbolt grows the active file in steps of up to
//     SegmentMaxBytes/8 (at most 16 MiB), so the size limit is enforced
//     to within one step.
//   - Sealed segments stay memory-mapped once read until retention removes
//     them or the journal closes.
//   - If fsync itself fails (an I/O error, not ENOSPC), bbolt's state is
//     uncertain; Append reports the error, and the journal should be closed
//     and reopened (Open's tail check then tells whether the data is sound).
//   - Append does not modify the caller's batch: filled IDs and times are
//     visible in the records read back.
package journal
