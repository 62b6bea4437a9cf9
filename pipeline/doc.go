// Package pipeline is the core of Sluice: the event model, the Source,
// Sink and Journal contracts, the typed factory registries, and the runner
// that connects them. It imports nothing else of the project; sources,
// sinks, the journal and the config loader all depend on it.
//
// # Event flow
//
// A Source observes something and calls SourceHost.Emit with events (and,
// in the same transaction, its own state). Emit appends them to the Journal
// and returns only once they are durable (fsync'd); only then may the
// source acknowledge its origin (an HTTP 202, a PASS). The journal assigns
// each event its Sequence.
//
// Every Sink consumes the journal through its own cursor. A route sends the
// events of its sources (`from`, matched on Event.Origin) to its sinks
// (`to`); a sink reads every record, keeps those its routes select, and
// hands them to Sink.Deliver in batches, in journal order. A sink that is
// slow or down never delays another: each has its own cursor and its own
// goroutine.
//
// # Delivery semantics
//
// Delivery is at least once. The cursor moves past a batch only after
// Deliver returned nil (or the batch was given up on), and cursor commits
// are batched by the journal, so a crash re-delivers what was delivered
// since the last commit. Each Delivery carries an idempotency key derived
// from the event's source and id and the sink's name (IdempotencyKey),
// stable across retries, restarts and replays, which sinks pass to their
// peers in native form.
//
// A failed Deliver is retried with exponential backoff and jitter
// (RetryConfig, github.com/cenkalti/backoff/v4); retry lives here, not in
// sinks. An error wrapped with Permanent is not retried. A batch that fails
// permanently, or whose retries run out under a finite MaxElapsed, is given
// up on: it is counted (sluice.sink.dead_lettered) and logged with the
// first and last error, and stays in the journal for replay.
//
// # The router
//
// The watermill Router runs one handler per sink over a Subscriber adapter
// on the journal (router.go, the only file that uses watermill types). A
// message carries a batch of records rather than one event, because the
// Router costs about 13µs per message. Ack advances the sink's cursor; Nack
// leaves it, so the batch is delivered again.
//
// # Lifecycle
//
// New builds every component from its factory; Run starts sinks, then the
// router, then sources, and on cancellation stops sources first (so the
// journal stops growing), then the router (in-flight deliveries finish,
// backoff waits end and leave their batch for the next start), then sinks.
// All of it is bounded by Spec.ShutdownTimeout. Run owns every goroutine
// it starts.
//
// # Telemetry
//
// Components get a Settings with a scoped slog.Logger, OpenTelemetry
// tracer and meter providers and a Clock; nothing reads globals. The core
// records a span per emit (source.emit) and per delivery attempt
// (sink.deliver, linked to the events' traceparent) and the metrics listed
// in telemetry.go.
package pipeline
