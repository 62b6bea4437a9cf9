package pipeline

import (
	"context"
	"time"
)

// Journal is the durable, ordered log every event passes through. The
// journal package implements it with bbolt; a NATS JetStream backend will
// implement it too. Every implementation must pass journal/journaltest,
// including its dead-letter and consumer-state cases.
//
// All methods are safe for concurrent use.
type Journal interface {
	// Append makes the batch's events and state updates durable in one
	// atomic transaction and returns only after they are (fsync'd). It
	// assigns each event its Sequence (consecutive, starting at First) and
	// fills an empty ID with a fresh UUIDv7 and a zero Time with the append
	// time. Concurrent appends are group-committed.
	//
	// On error nothing of the batch is stored. A journal at its size limit
	// or on a full disk returns an error matching ErrJournalFull; a closed
	// journal returns ErrJournalClosed. Cancelling ctx before the batch is
	// committed abandons it; after that, the batch is committed regardless.
	Append(ctx context.Context, batch AppendBatch) (AppendResult, error)

	// Read returns records with Seq >= from in sequence order, at most
	// limit.MaxRecords records and about limit.MaxBytes bytes (always at
	// least one record). If none is available yet it blocks, without
	// polling, until one is appended, ctx ends (ctx.Err()) or the journal
	// closes (ErrJournalClosed). If from is older than the oldest retained
	// record, reading starts at the oldest. The returned records are copies
	// the caller owns.
	Read(ctx context.Context, from uint64, limit ReadLimit) ([]Record, error)

	// Cursor returns the next sequence the named consumer should read: the
	// one after the last committed position, or the first retained record
	// if the consumer never committed. Registering a consumer this way makes
	// retention keep what it has not read yet.
	Cursor(ctx context.Context, consumer string) (uint64, error)

	// CommitCursor records that consumer has handled every record before
	// next, and applies state (the consumer's own small key/value state,
	// StateUpdate.Source ignored) in the same transaction as that cursor
	// position: after a crash the stored state is always the one committed
	// with the stored cursor. Commits are batched: they become durable with
	// the next append transaction, a periodic flush or Close, so a crash
	// may re-deliver records committed since the last flush (at-least-once).
	// A cursor never moves backwards (a commit behind the current position
	// still applies its state).
	CommitCursor(ctx context.Context, consumer string, next uint64, state ...StateUpdate) error

	// ConsumerState returns the state committed with consumer's cursor
	// (see CommitCursor); empty for an unknown consumer.
	ConsumerState(ctx context.Context, consumer string) (map[string][]byte, error)

	// SetCursor moves consumer's cursor to next, backwards or forwards
	// (an operator's decision: re-deliver or skip), keeping its state. It
	// is durable before it returns.
	SetCursor(ctx context.Context, consumer string, next uint64) error

	// DeleteCursor unregisters consumer and its state, so retention no
	// longer keeps records for it. It is durable before it returns.
	// Deleting an unknown consumer is not an error.
	DeleteCursor(ctx context.Context, consumer string) error

	// DeadLetterStore is required: a permanently failed delivery is
	// stored, never skipped.
	DeadLetterStore

	// SourceState returns the key/value state a source stored through
	// AppendBatch.State, as of the last durable append.
	SourceState(ctx context.Context, source string) (map[string][]byte, error)

	// SeqAtTime returns the sequence of the oldest retained record
	// appended at or after t: the start of a time range (a sink's
	// start_at). It returns the next sequence to be appended
	// (JournalStats.Last+1) when every record is older than t, and the
	// oldest retained sequence when t is before all of them. Append times
	// never go backwards, so it may search rather than scan.
	SeqAtTime(ctx context.Context, t time.Time) (uint64, error)

	// Stats reports the journal's extent, size, segments and cursors.
	Stats(ctx context.Context) (JournalStats, error)

	// Close flushes cursor commits and releases the journal. It is
	// idempotent. Blocked readers return ErrJournalClosed.
	Close(ctx context.Context) error
}

// BufferedReader is an optional interface of a Journal whose reads can
// reuse the caller's memory: ReadInto is Journal.Read, except that the
// records are appended to buf[:0], in buf's array when it has room. The
// sink consumer reads batch after batch into one buffer (it stops using
// the records of a read before the next one), which spares allocating and
// collecting a batch-sized array per read. A wrapper that embeds a
// journal implementing it and changes Read must change ReadInto too (or
// embed Journal, the interface, which hides it).
type BufferedReader interface {
	ReadInto(ctx context.Context, buf []Record, from uint64, limit ReadLimit) ([]Record, error)
}

// AppendBatch is what one Append makes durable atomically.
type AppendBatch struct {
	// Events are appended in order.
	Events []Event
	// State updates are written in the same transaction as Events, so a
	// source's state never disagrees with the events that explain it.
	State []StateUpdate
}

// StateUpdate sets or deletes one key of a source's state.
type StateUpdate struct {
	Source string
	Key    string
	Value  []byte
	// Delete removes Key; Value is ignored.
	Delete bool
}

// AppendResult describes a committed append.
type AppendResult struct {
	// First and Last are the sequences of the first and last appended
	// events; both are zero for a batch with no events.
	First, Last uint64
	// Time is the append time recorded with every event of the batch.
	Time time.Time
}

// ReadLimit bounds one Read.
type ReadLimit struct {
	// MaxRecords is the most records returned; zero means 256.
	MaxRecords int
	// MaxBytes is the approximate most encoded bytes returned; zero means
	// 1 MiB. At least one record is returned even if it is larger.
	MaxBytes int
}

// JournalStats describes a journal at one moment.
type JournalStats struct {
	// First and Last are the oldest and newest retained sequences; both are
	// zero when the journal is empty.
	First, Last uint64
	// Bytes is the disk space of all segments.
	Bytes int64
	// Segments lists the segment files, oldest first.
	Segments []SegmentStats
	// Cursors maps each consumer to its next sequence.
	Cursors map[string]uint64
	// HeadHash is the chain hash of the newest record.
	HeadHash [32]byte
	// Dropped counts records removed by retention before a consumer read
	// them (only under the drop-oldest policy).
	Dropped uint64
}

// SegmentStats describes one segment of a journal.
type SegmentStats struct {
	Name        string
	First, Last uint64
	Bytes       int64
	Created     time.Time
}
