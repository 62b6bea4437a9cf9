package pipeline

import "context"

// Sink delivers events somewhere outside the pipeline.
//
// Contract:
//   - Start is called once before any Deliver; its ctx is for startup only.
//   - Deliver is called by one goroutine at a time, with batches in journal
//     order. It returns nil only when every delivery of the batch has taken
//     effect (written, acknowledged by the peer). On a plain error the
//     whole batch is delivered again later (at least once), so sinks must
//     tolerate duplicates, using Delivery.Key where the peer supports it.
//     A sink that sends more than one request per batch returns a
//     BatchError listing the deliveries that failed, so that only those
//     are retried. Wrap errors that retrying cannot fix with Permanent.
//   - Settings.State (SinkState) holds the sink's durable state; changes
//     made during Deliver are committed with the cursor after it returns.
//   - Deliver must return promptly when ctx ends.
//   - Deliver must not use batch (the slice) after it returns: the runner
//     reuses its array for the next batch. Copy the deliveries a sink
//     keeps (and their Data, as Event says).
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
