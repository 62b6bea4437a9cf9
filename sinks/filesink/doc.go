// Package filesink implements the "file" sink: it appends every event as
// one line of CloudEvents structured JSON (with the journal position in
// the "sequence" extension) to a file, for auditors, tests and tools that
// read JSON lines.
//
// # Durability
//
// A batch is encoded in memory and written with one write call to a file
// opened with O_APPEND; with fsync (the default) the file is synced before
// Deliver returns nil, so an acknowledged batch survives a crash. If the
// write fails part-way, the sink truncates the file back to where the batch
// began, so a retry never leaves half a line in the middle of the file. On
// Start, a partial last line left by a crash (it belongs to a batch that was
// never acknowledged and will be delivered again) is truncated too.
//
// Delivery is at least once: after a failed fsync or a crash, a batch may
// appear twice. Readers deduplicate by (source, id).
//
// Provision (which the runner calls before Start, and `sluice validate`
// runs alone) checks the file without creating or changing anything: an
// existing file is opened for appending and must be a regular file; for a
// missing one, the nearest existing ancestor must be a directory. Start
// runs it when nobody did, then creates what is missing and repairs.
//
// Every line is valid UTF-8 JSON whatever the event holds: data that is
// not valid UTF-8 JSON of a JSON content type is written as data_base64,
// and invalid UTF-8 in attributes becomes U+FFFD.
//
// # Files
//
// The file is created with mode 0600 and missing parent directories with
// 0700; the modes of existing files and directories are left alone. The
// sink assumes it is the file's only writer.
//
// So that another local user cannot redirect the writes (Sluice often runs
// as root), the file's directory must be owned by this user or root and
// not writable by group or others, and the file itself is never followed
// through a symbolic link and must be a regular file owned by this user or
// root with one link. Anything else is refused, untouched, with an error
// naming the path and the fix (internal/safefile, docs/security.md).
package filesink
