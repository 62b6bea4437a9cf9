package pipeline

import "context"

// Sink delivers events somewhere outside the pipeline.
//
// Contract:
//   - Start is called once before any Deliver; its ctx is for startup only.
//   - Deliver is called by one goroutine at a time, with batches in journal
//     order. It returns nil only when every delivery of the batch has taken
//     effect (written, acknowledged by the peer). On error the whole batch
//     is delivered again later (at least once), so sinks must tolerate
//     duplicates, using Delivery.Key where the peer supports it. Wrap
//     errors that retrying cannot fix with Permanent.
//   - Deliver must return promptly when ctx ends.
//   - Close releases resources; it is idempotent and safe without Start.
type Sink interface {
	Start(ctx context.Context) error
	Deliver(ctx context.Context, batch []Delivery) error
	Close(ctx context.Context) error
}

// Delivery is one event on its way to one sink.
type Delivery struct {
	// Event is the event to deliver, with its journal Sequence.
	Event Event
	// Key is the idempotency key: stable for (Event.ID, sink name) across
	// retries, restarts and replays. Sinks pass it in their native form (a
	// header for HTTP, the VES eventId, a Kubernetes object name).
	Key string
	// Route names the route that selected the event for this sink.
	Route string
}
