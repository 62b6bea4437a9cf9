package journal

import (
	"errors"
	"fmt"

	"github.com/sluice-dev/sluice/pipeline"
)

// Sentinel errors. Match them with errors.Is; the journal wraps them with
// the operation and, where useful, typed details (*CorruptionError,
// *FullError).
var (
	// ErrInUse is returned by Open when another process (or another Open in
	// this process) holds the journal directory's lock. The message names
	// the holder's PID when the lock file records it.
	ErrInUse = errors.New("journal in use")

	// ErrCorrupt is returned when a record, a segment or the hash chain
	// fails an integrity check: by Verify, by Open's tail check and by reads
	// that meet a damaged record. The concrete error is a *CorruptionError.
	ErrCorrupt = errors.New("journal corrupt")

	// ErrReadOnly is returned by methods that write (Append, CommitCursor,
	// DeleteCursor) on a journal opened with Options.ReadOnly.
	ErrReadOnly = errors.New("journal is read-only")

	// ErrNotFound is returned by a read-only Open of a directory that holds
	// no journal.
	ErrNotFound = errors.New("journal not found")

	// ErrMalformed is returned by the event codec when its input is not a
	// valid encoding. Inside the journal it surfaces wrapped in a
	// *CorruptionError.
	ErrMalformed = errors.New("malformed event encoding")

	// ErrInvalidBatch is returned by Append when the batch cannot be stored
	// as given: a state update without source or key, or a key or value
	// larger than bbolt accepts.
	ErrInvalidBatch = errors.New("invalid append batch")

	// ErrWriteFailed is returned by writes (Append, cursor and state
	// commits) after a bbolt commit of the active segment failed, for
	// instance because fsync returned EIO: that batch is refused, and so is
	// every write until the journal has closed the segment, reopened it on
	// a new file descriptor and removed whatever the refused transaction
	// left in the file. A full disk additionally matches
	// pipeline.ErrJournalFull (a *FullError). See "Failure model" in the
	// package documentation. It matches pipeline.ErrJournalUnavailable:
	// sink consumers retry their cursor commits instead of failing.
	ErrWriteFailed error = transientError("journal write failed")

	// ErrResources is returned when a segment cannot be opened for lack of
	// file descriptors (EMFILE, ENFILE) or memory (ENOMEM), or because its
	// file lock is held elsewhere. It is transient and never reported as
	// corruption; it matches pipeline.ErrJournalUnavailable.
	ErrResources error = transientError("journal resources exhausted")

	// ErrInvalidCursor is returned by CommitCursor and Cursor for an empty
	// or oversized consumer name, and by CommitCursor for a position beyond
	// the next sequence to be appended.
	ErrInvalidCursor = errors.New("invalid cursor")
)

// CorruptionError describes the first integrity failure found. It matches
// ErrCorrupt with errors.Is.
type CorruptionError struct {
	// Segment is the segment file's base name, or "" when the problem is
	// not inside one segment (such as a missing segment).
	Segment string
	// Seq is the sequence of the first bad or missing record; zero when the
	// damage is in segment metadata.
	Seq uint64
	// Reason says what is wrong, e.g. "crc mismatch".
	Reason string
	// Err is the underlying error, if any (a bbolt or codec error).
	Err error
}

// Error implements error.
func (e *CorruptionError) Error() string {
	msg := "journal corrupt"
	if e.Segment != "" {
		msg += ": segment " + e.Segment
	}
	if e.Seq != 0 {
		msg += fmt.Sprintf(": seq %d", e.Seq)
	}
	msg += ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the underlying error.
func (e *CorruptionError) Unwrap() error { return e.Err }

// Reasons reported by FullError.
const (
	// FullReasonSizeLimit means Options.RetentionMaxBytes is reached and
	// retention may not remove anything a cursor still needs.
	FullReasonSizeLimit = "size limit reached"
	// FullReasonDiskFull means the file system returned ENOSPC (or EDQUOT).
	FullReasonDiskFull = "disk full"
)

// FullError is returned by Append when the journal cannot take the batch
// for lack of space. It matches pipeline.ErrJournalFull with errors.Is.
// Nothing already stored is affected, and Append works again once space is
// freed (cursors advance, retention removes segments, disk space returns).
type FullError struct {
	// Reason is FullReasonSizeLimit or FullReasonDiskFull.
	Reason string
	// Limit is the configured size limit in bytes (zero for a full disk).
	Limit int64
	// Used is the journal's disk usage in bytes when the append was refused.
	Used int64
	// Err is the underlying error for a full disk.
	Err error
}

// Error implements error.
func (e *FullError) Error() string {
	msg := "journal full: " + e.Reason
	if e.Limit > 0 {
		msg += fmt.Sprintf(" (used %d of %d bytes)", e.Used, e.Limit)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is pipeline.ErrJournalFull.
func (e *FullError) Is(target error) bool { return target == pipeline.ErrJournalFull }

// Unwrap returns the underlying error.
func (e *FullError) Unwrap() error { return e.Err }

// transientError is a sentinel that also matches
// pipeline.ErrJournalUnavailable, so that the pipeline, which knows
// nothing of this package, waits and retries instead of stopping.
type transientError string

// Error implements error.
func (e transientError) Error() string { return string(e) }

// Is reports whether target is pipeline.ErrJournalUnavailable.
func (e transientError) Is(target error) bool { return target == pipeline.ErrJournalUnavailable }
