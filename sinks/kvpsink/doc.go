// Package kvpsink implements the "kvp" sink: it reports events to a
// Hyper-V (Azure) host by appending records to the guest KVP pool file
// that hv_kvp_daemon serves, in the format cloud-init's
// HyperVKvpReportingHandler writes, so that cloud-init's tooling and the
// host's consumers of cloud-init's records read them.
//
//	sinks:
//	  - name: host
//	    type: kvp
//	    with:
//	      path: /var/lib/hyperv/.kvp_pool_1   # the default
//	      prefix: CLOUD_INIT                  # the default
//	      mode: host-safe                     # or cloud-init
//	      max_file_bytes: 2560KiB             # 1024 records, the default
//	      file_mode: "0600"                   # of a created pool file, the default
//
// # Records
//
// The pool file is a sequence of 2560-byte records: a 512-byte key and a
// 2048-byte value, each UTF-8 padded with NUL bytes. An event becomes
//
//	key   PREFIX|INCARNATION|TYPE|NAME|UUID
//	value {"name":NAME,"type":TYPE,"ts":"2023-11-14T22:13:20.123456Z","result":RESULT,"msg":MSG}
//
// with "result" only when the event has one. The value is compact JSON
// escaped as Python's json.dumps does (pure ASCII: \uXXXX with lower-case
// hex, surrogate pairs, DEL escaped). "ts" is formatted as cloud-init 22.4
// does (UTC, six fraction digits or none, "Z"). INCARNATION is the boot
// time in epoch seconds, computed at start as cloud-init does:
// int(time.time() - first field of /proc/uptime), 0 when it cannot be read.
//
// UUID is not random, as cloud-init's uuid4 is: it is the delivery's
// idempotency key (pipeline.Delivery.Key, 32 hex digits) written
// 8-4-4-4-12. A retried or replayed event therefore gets the same key, and
// consumers can drop the repeat.
//
// # Slicing
//
// A value too long for one record is sliced as cloud-init 20.3+ does: the
// JSON-escaped message is cut into parts, each written with the metadata
// plus "msg_i":i before "msg", under the key with "|i" appended, each
// value at most 1016 bytes. Consumers reassemble by joining the raw "msg"
// text of the slices in order and decoding once (Reassemble does).
//
// Two modes set the limits:
//
//   - host-safe (the default): the kernel passes at most 254 UTF-16 units
//     of a key and 1022 of a value to the host and silently cuts the rest
//     (drivers/hv/hv_kvp.c), so keys are kept within 254 bytes and values
//     within 1022; a value longer than 1022 bytes is sliced, and slices
//     are cut between escapes (never inside \" or \uXXXX, nor between the
//     two halves of a surrogate pair), so every slice is valid JSON on its
//     own. For messages without escapes near a cut the records equal
//     cloud-init's.
//   - cloud-init: byte for byte what cloud-init 22.4 writes for the same
//     event, uuid and time: a value is sliced only above 1024 bytes, and
//     slices are cut where cloud-init cuts them, even inside an escape.
//     Keys may use the whole 512-byte field.
//
// In both modes the encoder avoids cloud-init's bugs: type, name and
// result are capped (type 64 bytes, name 256 escaped bytes and what fits
// the key, result 64 escaped bytes), so the metadata always leaves room
// for the message and slicing always ends (cloud-init loops forever on a
// name of ~1000 characters); the message is capped at max_message_bytes
// (escaped), so an event makes at most a few thousand slices; strings are
// cut only at character boundaries (cloud-init's fixed-width packing can
// cut a key inside a UTF-8 character, which its own decoder then rejects);
// NUL and invalid UTF-8 in the type and name become U+FFFD and '|' in the
// type becomes '_'. Every cut is logged and counted
// (sluice.sink.kvp.truncated).
//
// # Mapping
//
// ReportOf maps a Sluice event to a KVP event: type is the event's type,
// name is the origin (the Sluice source's name) followed by "/SUBJECT"
// when there is a subject, there is no result, and msg is the event's
// data as text (JSON data of a JSON content type compacted, as cloud-init
// writes a dict; base64 in a {"encoding":"base64","data":…} object when it
// is not UTF-8). ts is the event's time; an event that came with the zero
// instant (0001-01-01T00:00:00Z) keeps it, only an event without a time
// gets the journal's append time. Routes override any of them with the extension attributes
// kvptype, kvpname, kvpresult and kvpmsg, which a route transform sets
// from templates:
//
//	routes:
//	  - name: probes-to-host
//	    from: [web]
//	    to: [host]
//	    transform:
//	      set:
//	        kvptype: diagnostic
//	        kvpname: 'sluice/{{ .Subject }}'
//	        kvpresult: '{{ if eq .Severity "error" }}FAIL{{ else }}SUCCESS{{ end }}'
//
// The kvp* attributes count only when the route's transform set them (the
// transform lists them in the sluicetransformset extension); one that
// came with the event is ignored, so a producer cannot write a report of
// its choosing (a PROVISIONING_REPORT with result SUCCESS).
//
// # Writing, locking and durability
//
// A batch is encoded in memory and appended with one write. The file is
// opened for every batch (created with file_mode, default 0600, if missing;
// never through a symbolic link, and only in a directory owned by this user
// or root that group and others cannot write) and locked
// with both an exclusive flock, which cloud-init and azure-init take, and
// an exclusive fcntl write lock on the whole file, which hv_kvp_daemon
// takes (the two kinds never see each other on Linux, so one alone does
// not exclude both). The locks are polled, so a cancelled delivery and
// lock_timeout end the wait. With fsync (the default) the file is synced
// before the batch is acknowledged. A failed write or sync truncates the
// file back to its size before the batch, so the retry leaves no partial
// batch behind; a partial record found at the end of the file (a writer
// that crashed) is cut before appending, since it would shift every later
// record.
//
// A missing directory, a file that cannot be opened for writing and a lock
// held past lock_timeout fail the delivery with an error that says so; the
// runner retries it with backoff, nothing is dropped. Start does not fail
// for them (the directory may appear when hv_kvp_daemon starts).
// Provision (run by the runner before Start, and by `sluice validate`)
// only reads the boot time; Start runs it when nobody did.
//
// # Truncation and growth
//
// With truncate_on_boot (the default), the first time the sink opens an
// existing pool file it empties the file when its modification time is
// before this boot, as cloud-init does once per process. That happens at
// start, under both locks; when the file cannot be opened or its locks are
// busy for a second then, it happens at the first delivery instead, so
// start is never held up. A file that does not exist at start is new to
// this boot and is not checked again.
//
// The file never grows beyond max_file_bytes (default 2560KiB, 1024
// records: hv_kvp_daemon re-reads the whole file for every record the
// host enumerates). Other writers' records count too. When the records of
// an event would pass the cap, that event and the rest of its batch are
// not written and fail permanently with ErrPoolFull (dead letters, which
// can be redriven after the next boot empties the file); the events before
// it are written. The sink never truncates a file it has written to this
// boot, so cloud-init's records are never lost.
//
// # Testing
//
// The tests use the real cloud-init (Debian package, installed by
// .ci/run): testdata/kvp_decode.py decodes pool files with cloud-init's
// own HyperVKvpReportingHandler, encodes events with its _encode_event for
// byte-for-byte comparison, and appends with its writer concurrently with
// the sink. hv_kvp_daemon needs a Hyper-V VMBus device and cannot run
// here; its fcntl lock is exercised with Python's fcntl.lockf from a
// separate process. testdata/sample.kvp_pool_1 is a pool file written by
// cloud-init 22.4's encoder (copied from the project's reference
// samples).
package kvpsink
