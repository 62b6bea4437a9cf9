package pipeline

import (
	"errors"
	"strconv"
)

var (
	// ErrJournalFull is returned (wrapped) by Journal.Append when the
	// journal's size limit is reached and retention may not free space, or
	// the disk is full. Nothing already stored is affected; sources report
	// it to their clients (HTTP 503) rather than drop events.
	ErrJournalFull = errors.New("journal full")

	// ErrJournalClosed is returned by journal methods called after Close.
	ErrJournalClosed = errors.New("journal closed")

	// ErrJournalUnavailable is matched (errors.Is) by journal errors that
	// are transient: the journal cannot serve a read or a write just now
	// (file descriptors or memory exhausted, a segment being reopened
	// after a failed commit) but loses nothing already stored. Sink
	// consumers wait and try again (with the sink's retry policy) instead
	// of failing the run; sources report it to clients as a refusal to
	// retry later.
	ErrJournalUnavailable = errors.New("journal temporarily unavailable")

	// ErrUnknownType is returned by Registry.Lookup callers when no factory
	// is registered for a component type.
	ErrUnknownType = errors.New("unknown component type")

	// ErrDuplicateType is returned by Registry.Register when a factory for
	// the type already exists.
	ErrDuplicateType = errors.New("duplicate component type")

	// ErrInvalidSeverity is returned when a severity name is not a level.
	ErrInvalidSeverity = errors.New("invalid severity")

	// ErrInvalidConfig is returned (wrapped) when a component's
	// configuration fails validation.
	ErrInvalidConfig = errors.New("invalid config")
)

// PermanentError marks a delivery error that retrying cannot fix, such as
// an HTTP 4xx answer or an event the sink cannot encode. The runner does not
// retry it.
type PermanentError struct{ Err error }

// Error implements error.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError; a nil err stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err (or anything it wraps) is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// BatchError reports per-delivery outcomes of a batch: the deliveries it
// lists failed, every other delivery of the batch took effect. A sink
// returns it after isolating the offending events (for example by
// bisecting a batch the peer rejected as a whole, or when it sends one
// request per event). The runner dead-letters the failures whose Err is
// permanent, retries only the failures whose Err is transient (never the
// deliveries that took effect), and commits its cursor past every
// delivery that is done. A sink that sends several requests per batch
// must report this way so that one transient failure does not re-send
// the whole batch.
type BatchError struct {
	Failed []DeliveryFailure
}

// DeliveryFailure is one failed delivery of a batch: its index in the
// batch passed to Deliver, and why it failed.
type DeliveryFailure struct {
	Index int
	Err   error
}

// Error implements error.
func (e *BatchError) Error() string {
	if len(e.Failed) == 0 {
		return "batch partially failed"
	}
	if len(e.Failed) == 1 {
		return "1 delivery of the batch failed: " + e.Failed[0].Err.Error()
	}
	return strconv.Itoa(len(e.Failed)) + " deliveries of the batch failed, first: " + e.Failed[0].Err.Error()
}
