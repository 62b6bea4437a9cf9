package pipeline

import "context"

// Source turns something observed into events.
//
// Contract:
//   - Run blocks, producing events through host.Emit, until ctx is
//     cancelled; it then stops accepting new work, finishes or abandons
//     what is in flight and returns nil (or ctx.Err()). Any other error
//     returned is fatal for the pipeline.
//   - An event is acknowledged to its origin (an HTTP 202, a PASS to a load
//     balancer, an upstream checkpoint) only after Emit returned nil, that
//     is after the event is durable in the journal.
//   - Run is called once. The runner calls it on its own goroutine and
//     cancels ctx before it stops any sink (sources stop first).
type Source interface {
	Run(ctx context.Context, host SourceHost) error
}

// SourceHost is what the runner gives a running source.
type SourceHost interface {
	// Emit appends events, with the source's state updates in the same
	// transaction, and returns after they are durable. The host fills
	// Event.Source (if empty) with the source's name-derived URI, stamps
	// the trace context and counts the events. Errors are those of
	// Journal.Append; ErrJournalFull must be reported to the origin, never
	// swallowed.
	Emit(ctx context.Context, events []Event, state ...StateUpdate) (AppendResult, error)

	// State returns this source's durable key/value state as of the last
	// Emit, for resuming after a restart.
	State(ctx context.Context) (map[string][]byte, error)
}

// SourceStateUpdate builds a StateUpdate for the given source, a shorthand
// for sources that write state with their events.
func SourceStateUpdate(source, key string, value []byte) StateUpdate {
	return StateUpdate{Source: source, Key: key, Value: value}
}
