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
// # Configuration and backends
//
// Config is the `journal:` section of a configuration file (the config
// package embeds it): DefaultConfig holds the one set of defaults and
// Validate reports pipeline.FieldErrors. Config.Backend names the
// implementation; "bbolt" (this package, BBolt) is the default and the
// only one for now. Backends is the explicit registry the composition
// root builds (DefaultBackends; no init-time registration); its Open
// returns a Store, pipeline.Journal plus Admin (Verify, Scan, SeqAtTime,
// Export, checkpoints), which is all cmd and the admin server use, so a
// second backend is added here without touching them. Mode says whether
// Open may create the journal (ReadWrite), only inspects it (ReadOnly) or
// changes an existing one (Existing, for tools).
//
// # Directory layout
//
//	dir/                               mode 0700
//	  LOCK                             flock: exclusive for a writer (holds its PID), shared for readers
//	  00000000000000000001.seg         segment files, 0600, named by their first sequence
//	  00000000000000052731.seg         the newest segment is the active one
//	  deadletters.db                   dead letters, 0600 (see Dead letters)
//	  segments.cache                   cached meta of sealed segments (see Failure model)
//	  <segment>.incomplete-<time>      a torn newest segment moved aside by Open
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
//	consumers one nested bucket per consumer: key -> value, the state it
//	          committed with its cursor (CommitCursor's state updates)
//	state     one nested bucket per source: key -> value (AppendBatch.State)
//	journal   floor   -> oldest retained sequence (8 bytes)
//	          dropped -> records dropped unread by drop_oldest (8 bytes)
//
// Only the active segment's cursors, consumers, state and journal buckets are
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
// committer goroutine owns all writes, and appenders encode their events
// (and fill in missing IDs) in their own goroutines before queueing them.
// The committer opens a transaction for whatever is queued and, while
// appenders keep arriving, seals each batch (sequence, append time, chain
// hash, CRC, written in place into the encoded record) and puts it at
// once, so its work overlaps with theirs. It commits when the group holds
// as many batches as were in flight around the previous commit, when
// Options.MaxBatchBytes is reached, or after half the previous commit's
// duration (at most 1 ms). Without that short gathering, concurrent
// appenders split into two cohorts that alternate (one commits while the
// other queues), halving every group; a lone appender never waits.
// Segments of 16 MiB and more use 16 KiB bbolt pages, which cuts the
// number of page writes per commit. Buckets use FillPercent 1.0 (keys only
// grow), the map freelist, and a memory map sized so the active segment
// never remaps. New segment files and removed ones are made durable with a
// directory fsync.
//
// Cancelling an Append's ctx while its batch is still queued abandons it;
// once the committer has taken it, it is committed and Append waits for
// the outcome. A batch is atomic: events and state updates commit together
// or not at all.
//
// Cursor commits are in memory (monotonic) and become durable with the
// next append transaction, after Options.CursorFlushInterval in a small
// transaction of their own, or at Close: a crash can re-deliver records
// whose cursor commit was not yet flushed (at-least-once). The state a
// consumer commits with its cursor (a sink's alarm or report state) is
// held in memory beside the cursor and written by the same transaction,
// so after a crash the stored state is always the one that belongs to the
// stored cursor; ConsumerState reads it, pending commits included.
// SetCursor (backwards or forwards, an operator's decision) and
// DeleteCursor (the cursor and its state) hand the committer a
// transaction of their own and return once it is durable.
//
// # Segments and retention
//
// The active segment is rotated when its bbolt data size, less what the
// state carried into it takes (sources' and consumers' state, copied into
// every new segment), reaches Options.SegmentMaxBytes, or it is older than
// Options.SegmentMaxAge (checked when the next batch commits). State larger
// than a segment is logged at each rotation, since each copies it. Retention removes whole sealed
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
// hit and every Options.RetentionInterval, the first time one interval
// after Open (not at Open: a consumer that registers just after Open, as
// the engine's sinks do, keeps the backlog a reopened journal holds). The new oldest sequence (the
// floor) is committed before files are unlinked, so a crash in between
// leaves files the next Open removes, and Verify can tell segments removed
// by retention from segments deleted by hand.
//
// # Opening and recovery
//
// Open takes dir/LOCK with flock(LOCK_EX|LOCK_NB) (LOCK_SH for read-only),
// so a second process fails at once with ErrInUse naming the holder's PID.
// It reads only the newest segment: a newest segment without meta (a crash
// during rotation, before its first transaction committed) is moved aside
// (see Failure model); the last records are checked (CRC, sequence, chain
// links, decoding) and damage is reported as a *CorruptionError. Older
// segments are opened, read-only and memory-mapped, on first use, at most
// Options.MaxOpenSegments at a time. bbolt panics and memory faults on a
// damaged file are turned into a *CorruptionError.
//
// # Failure model
//
// Failed commit (fsync EIO or ENOSPC, any bbolt commit error). bbolt may
// already count a transaction whose final fdatasync failed (its meta page
// is written first), and after a failed fsync the kernel may have dropped
// the unwritten pages, so the journal never writes or syncs through that
// file descriptor again. The batch is refused with an error wrapping
// ErrWriteFailed (and matching pipeline.ErrJournalFull when the cause is
// ENOSPC), and before anything else is acknowledged the committer closes
// the active segment, zeroes the failed transaction's meta page if it
// reached the file (bbolt then opens at the previous transaction, which
// also undoes the refused batch's state updates and cursor writes),
// reopens the file on a new descriptor, re-derives the head and chain
// hash from it, deletes any record above the last acknowledged sequence
// and checks that the head is the acknowledged one. Readers wait for the
// few milliseconds this takes. If that fails (the disk keeps failing),
// every write is refused with ErrWriteFailed, reopening is retried at most
// every 200 ms, reads of the active segment fail with the same error, and
// the gauge sluice.journal.refusing is 1; sluice.journal.commit.failed
// counts failed commits and sluice.journal.reopened{outcome} the attempts.
// The dead-letter store (deadletters.db) follows the same rule: a failed
// commit is refused with ErrWriteFailed, its meta page undone, and the file
// reopened on a new descriptor before the next operation.
// ErrWriteFailed and ErrResources match pipeline.ErrJournalUnavailable: sink
// consumers wait and retry (their backoff, without max_elapsed) instead of
// ending the run, and the http source answers 503.
// A failed rotation removes the new file; the active segment is untouched.
//
// Full disk (ENOSPC, as opposed to Options.RetentionMaxBytes). Before the
// batch is refused as a *FullError (FullReasonDiskFull), the journal
// removes every sealed segment that all registered cursors have passed,
// whatever the retention settings, and tries the batch once more. With no
// registered cursor nothing counts as passed.
//
// Out of descriptors or memory (EMFILE, ENFILE, ENOMEM) and segment locks
// held elsewhere are ErrResources: transient, never corruption. Sealed
// segments hold a descriptor and a mapping only while among the
// Options.MaxOpenSegments (default 64) most recently used; idle ones
// beyond that are closed and reopen on use, and readers close the idle
// ones every registered cursor has passed, so a backlog read by a sink
// does not accumulate handles. Pages a reader touched stay resident in the
// process while a file is mapped, so the journal drops a segment's pages
// (madvise MADV_DONTNEED; the page cache keeps them) after every 4 MiB
// read from it and when a reader reaches its end: draining a backlog of
// any size keeps a few MiB of segment pages resident. Sealed segments are
// mapped MADV_SEQUENTIAL (bbolt's MADV_RANDOM turns readahead off, one
// disk read per 4 KiB page from a cold cache). What Stats, age
// retention and SeqAtTime need from a sealed segment (creation time, last
// sequence, time and hash) is kept in dir/segments.cache, written without
// fsync at rotation and Close and trusted per entry only while the file's
// size and modification time match, so a start does not open every
// segment; Verify and Repair never use it.
//
// Torn or unreadable newest segment. Open judges a newest segment it
// cannot open by its own meta pages: if no valid meta records a
// transaction after bbolt's initialisation and the file is at most four of
// its pages (the page size read from the meta; 16 KiB when no meta is
// readable), it is a rotation interrupted before its first commit and is
// renamed to <name>.incomplete-<time> (never deleted). Otherwise it may
// hold acknowledged records, and Open refuses to start with a
// *CorruptionError (or ErrResources) rather than discard it.
//
// # Dead letters
//
// *Journal also implements pipeline.DeadLetterStore. Dead letters live in
// dir/deadletters.db, a bbolt file of their own, so they take no part in
// rotation, retention or Verify (and the size limits do not count them).
// Its one bucket, deadletters, maps
//
//	key:   sink name | 0x00 | 8-byte big-endian sequence   bytewise order is (sink, seq) order
//	value: JSON {"v": 1, "route", "key", "reason", "attempts", "first_error", "last_error",
//	       "first_at", "last_at", "redrives", "redrive_requested",
//	       "event": the binary event encoding, base64}
//
// JSON rather than a binary codec: dead letters are rare and their shape
// will grow; "v" leaves room for that. A letter stored again under the
// same (sink, seq) replaces the old one. PutDeadLetters, DeleteDeadLetters
// and RequestRedrive are one fsync'd transaction each. DeadLetters seeks
// to the sink's prefix when the filter names one and decodes a page of
// letters (64, or about 1 MiB) per read transaction, calling back outside
// it: memory stays bounded, a slow reader never holds a transaction open,
// and callbacks may use the store; a walk is therefore not a snapshot.
// RequestRedrive marks the matching letters and then, if there were any,
// closes the channel RedriveRequested handed out and replaces it, which
// wakes every waiting sink at once. A read-only journal opens the file
// read-only (a missing file is an empty store) and changes return
// ErrReadOnly. Like every bbolt file, deadletters.db never shrinks.
//
// # Time index
//
// SeqAtTime finds the first record appended at or after a time without
// scanning: append times never go backwards (Verify checks it), so it
// binary-searches the sealed segments by their last record's append time
// (cached once read), then the sequences of one segment, one record read
// per step. Replay and export use it for --from/--to TIME.
//
// # Export and verify
//
// Export writes a range as one CloudEvents JSON line per record, with the
// event's sequence and four extension attributes: appendtime (RFC 3339),
// chainhash (hex), sluiceorigin (the emitting source, when set) and
// sluicerecord, the record's payload (the event encoding above) in base64.
// Values are escaped and data embedded as pipeline.AppendCloudEventJSON
// does (HTML-safe strings, invalid UTF-8 in them replaced by U+FFFD; JSON
// data compacted; other data, and JSON data that is not valid UTF-8, as
// data_base64, so that every line is valid UTF-8 JSON and the bytes
// survive exactly), but the attributes come in a fixed order, not sorted:
//
//	specversion, sequence, appendtime, chainhash, id, source, type,
//	subject, time, datacontenttype, dataschema, severity, traceparent,
//	sluiceorigin, the extensions sorted by key, data or data_base64,
//	sluicerecord
//
// Optional attributes are left out when empty (severity when info); time
// is the append time when the event has none. An extension named like an
// attribute the line already holds is left out, and so is one named
// sluiceorigin (it is in sluicerecord anyway). The order lets Export
// render without sorting and lets VerifyExport find sequence, appendtime
// and chainhash at the start of a line and sluicerecord at its end
// without parsing it. A final manifest line follows:
//
//	{"manifest":"sluice-export/1","from":F,"to":T,"count":N,"prev_hash":HEX,
//	 "head_hash":HEX,"created":RFC3339,"host":NAME,"signature":{...}}
//
// prev_hash is the chain hash the range chains from (record F-1's, zero
// before sequence 1) and head_hash record T's. The optional signature is
// ed25519 over "sluice export manifest\n" followed by the manifest line
// without its signature member (alg, key_id = hex of the first 8 bytes of
// SHA-256 of the public key, public_key and value in base64).
//
// Why the payload rides along: the chain hash covers the binary encoding,
// and the JSON cannot be turned back into the same bytes (a zero event
// time reads back as the append time; JSON data is compacted). With it,
// VerifyExport recomputes every link from the manifest's prev_hash alone,
// so an export is checked offline against the same chain as the journal
// (its head_hash equals JournalStats.HeadHash at T), and then requires each
// line to be byte for byte what Export renders from that payload: no
// attribute can be edited, added or dropped without detection, while the
// lines stay plain CloudEvents for other tools. A line changed by another
// tool (reformatted JSON) therefore fails verification; verify the file as
// exported. VerifyExport reads the attributes it needs from their fixed
// places, or else from the top level of the line (nested data cannot
// pose as an attribute); either way the line must then equal its
// re-rendering. Export checks every CRC and link as
// it goes and stops at damage. Both run in chunks of at most 1,024 records
// or 1 MiB on GOMAXPROCS workers, so memory stays bounded whatever the
// range.
//
// # Checkpoints
//
// WriteCheckpoint appends to checkpoints.jsonl (0600, fsync'd) a statement
// that record Seq had chain hash HeadHash at Time, signed with an ed25519
// key over "sluice journal checkpoint\n" and the unsigned line. The engine
// writes one periodically and at shutdown when it has a signing key
// ($SLUICE_SIGNING_KEY; ReadSigningKey refuses a key file group or others
// may access, ErrKeyExposed). VerifyCheckpoint checks the journal against one:
// the hash chain proves every record links to the one before, but cannot
// show that records were cut from the very end; a checkpoint newer than the
// journal's head can.
//
// # Repair
//
// Open checks only the tail; a damaged tail makes it fail with a
// *CorruptionError, and the engine refuses to start. Repair (sluice journal
// repair) takes the directory's lock, verifies every segment as Verify
// does and, at the first bad or missing record, copies the segment holding
// it and all later segments into dir/repair-TIME/, rewrites that segment
// without the bad records (or removes it when none of it is good), removes
// the later ones, carries the newest cursors over (none past the new head)
// and raises the retention floor over segments deleted by hand. The
// journal then opens and verifies, and appends continue after the last
// good record; records after the damage survive only in the copies.
//
// # Telemetry
//
// Metrics (scope github.com/sluice-dev/sluice/journal): sluice.journal.appended
// {event}, sluice.journal.appended.bytes, sluice.journal.append.failed
// {batch, by reason}, sluice.journal.commit.duration (s, histogram),
// sluice.journal.commit.group.size ({event}, histogram),
// sluice.journal.segments, sluice.journal.segments.open (sealed segments
// holding a handle), sluice.journal.size and sluice.journal.refusing
// (gauges), sluice.journal.commit.failed {commit},
// sluice.journal.reopened {attempt, by outcome},
// sluice.journal.retention.removed {segment} and sluice.journal.dropped
// {event}. Each Append has a span named journal.append. Rotation,
// retention and recovery are logged with slog.
//
// # Caveats
//
//   - Records returned by Read and Scan are copies; nothing aliases bbolt
//     memory, which is only valid inside a transaction. Consecutive
//     records of one call with equal extensions share one Extensions map
//     (decoding a map is the largest part of decoding an event), so it
//     must not be modified, as no field of a pipeline.Event may be.
//   - The chain cannot reveal records cut from the very end of the
//     journal (or a whole journal replaced); compare JournalStats.HeadHash
//     with a value kept elsewhere for that.
//   - Open checks only the tail; run Verify to check everything, and Repair
//     to truncate a damaged journal to its last good record.
//   - Rotation by age and idle retention happen on the committer's
//     schedule: a journal that receives no appends keeps its active
//     segment however old.
//   - Sizes are file sizes: bbolt grows the active file in steps of up to
//     SegmentMaxBytes/8 (at most 16 MiB), so the size limit is enforced
//     to within one step.
//   - After a failed fsync the data of earlier, acknowledged commits is
//     still what was synced; the journal cannot tell whether the device
//     will keep the rest of its promises. Run Verify after I/O errors.
//   - Append does not modify the caller's batch: filled IDs and times are
//     visible in the records read back.
package journal
