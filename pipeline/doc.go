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
// Delivery is at least once. The cursor moves past a delivery only after
// it took effect (or was dead-lettered), and cursor commits are batched by
// the journal, so a crash re-delivers what was delivered since the last
// commit. Each Delivery carries an idempotency key derived from the
// event's source and id and the sink's name (IdempotencyKey), stable
// across retries, restarts and replays, which sinks pass to their peers in
// native form.
//
// A failed Deliver is retried with exponential backoff and jitter
// (RetryConfig, github.com/cenkalti/backoff/v4); retry lives here, in one
// helper shared by delivery, redrive, replay and the dead-letter store,
// not in sinks. An error wrapped with Permanent is not retried. A sink
// that sends several requests per batch reports per-delivery outcomes with
// BatchError: the deliveries it does not list took effect and are never
// sent again, its permanent failures are dead-lettered at once, only its
// transient failures are retried, and meanwhile the cursor is committed up
// to the lowest sequence still pending. Deliveries that fail permanently,
// or whose retries run out under a finite MaxElapsed, are dead-lettered
// (the Journal's DeadLetterStore is required): counted
// (sluice.sink.dead_lettered), logged with the first and last error, kept
// for redrive, and still in the journal for replay.
//
// # Waiting for a delivery
//
// A source that must answer its origin only once a sink applied the event
// (a load-balancer request answered after HAProxy reloaded) asserts its
// host to DeliveryWatcher, opens a DeliveryWatch on the sinks before Emit
// and waits, bounded by a deadline, for each sink's Completion of the
// emitted sequence: delivered (with the Result the sink attached through
// SetResult), dead-lettered (with the error and reason) or skipped (not
// selected by the sink's routes). Completions are signalled by the live
// consumer after its cursor commit, in memory only (see
// completion.go); sinks without an open watch pay nothing.
//
// # Watching a running pipeline
//
// Pipeline.Tap opens a tap on sources (what they appended), routes (what
// they selected, per sink, as that sink's consumer routes it) and sinks
// (what their live consumer delivered or dead-lettered), for `sluice tap`.
// Each tap has a bounded buffer: an observation that does not fit is
// dropped and counted (Tap.Dropped, sluice.tap.dropped), so a slow tap
// never slows or blocks delivery; nothing is built while no tap is open.
// Taps end when Run returns (ErrTapStopped), and when a Reload removes a
// source, route or sink they watch (ErrTapPointRemoved). Status reports running
// totals per source and sink (appended, delivered, retries, dead letters,
// failures) for rates computed from two snapshots (`sluice top`).
//
// # Routes
//
// An event goes to a sink through the first route (in configuration
// order) that selects it. A match that cannot be evaluated on an event (a
// missing key, a type error, a panic) counts as no match, so a later route
// may still select it; it is counted in sluice.route.match_errors{route}
// and logged at most once a minute per route. A route with OnError
// "dead_letter" dead-letters such events for its sinks instead (reason
// "match failed"). A transform that fails dead-letters the event.
//
// # Sink state and cursors
//
// A sink keeps small durable state through Settings.State (SinkState):
// New loads the state committed with the sink's cursor before calling the
// sink's factory, and after each Deliver the runner commits what the sink
// changed with the cursor position that covers it (Journal.CommitCursor),
// so after a crash state and cursor agree. Keys beginning "sluice." are
// the runner's.
//
// A sink that has no cursor yet begins where its StartAt says: the
// oldest retained record (the default), after the newest, or at the first
// record appended at or after a time (Journal.SeqAtTime); it is logged
// with the backlog it starts with. Its cursor is registered there before
// any source runs (Run) and, for a sink a Reload adds, before the reload
// changes anything, so that retention never removes the backlog a new
// sink starts at. At Run start (and by a timer while
// running) a cursor whose consumer is not a configured sink, for example
// after a sink was renamed or removed, is an orphan: it is logged at WARN
// with its backlog and marked in its own consumer state
// (OrphanedSinceKey); once marked longer than Spec.OrphanCursorTTL
// (default 24h) it is deleted, so it no longer holds back retention, and
// counted in sluice.journal.orphan_cursors_removed. A sink configured
// again before then clears the mark. Consumers that are not sinks are
// named with ToolConsumerPrefix ("sluice:") or listed in
// Spec.KeepCursors, and are never orphans.
//
// # The consumer
//
// Each sink has one consumer goroutine (consumer.go): read a bounded batch
// from its cursor (blocking without polling when caught up), route,
// throttle, deliver with retry, dead-letter, commit; dead letters marked
// for redrive go through the same deliver. Replay uses that deliver too,
// counting instead of dead-lettering. There is no message broker in the
// core path: watermill is kept for fleet mode's message boundary.
//
// # Lifecycle
//
// New builds every component from its factory and calls Provision on
// those that implement Provisioner (I/O such as reading certificates; the
// function Provision does the same for `sluice validate` without a
// journal); if anything fails, it closes the sinks it built. Run starts
// sinks, then their consumers, then sources, each source and consumer as
// its own unit under one errgroup, so that one can be stopped and started
// again alone. On cancellation it stops sources first (so the journal
// stops growing), then consumers (in-flight deliveries finish, backoff
// waits end and leave what is undelivered for the next start), then
// sinks. All of it is bounded by Spec.ShutdownTimeout; at the deadline
// what still runs is canceled, and what does not return is named in the
// log and in Run's error (ErrShutdownTimeout). Otherwise Run waits for
// every goroutine it started. A panic in a source's Run, a sink's Start,
// Deliver or Close, a factory, Provision or a route is an error of that
// component (ErrPanic), logged with its stack, never a crash.
//
// # Telemetry
//
// Components get a Settings with a scoped slog.Logger, OpenTelemetry
// tracer and meter providers and a Clock; nothing reads globals. The core
// records a span per emit (source.emit, the child of the source's own
// receive span when its context carries one; the journal's append span is
// its child), per routed batch and sink (sink.route) and per delivery
// attempt (sink.deliver, the parent of the sink's own client spans). An
// event's traceparent (the CloudEvents distributed-tracing extension) is
// its producer's, or else the span that received or emitted it; it is
// kept in the journal, and the route and deliver spans of a batch whose
// events share one traceparent are that context's children, so a trace
// shows receive, append, route and deliver as one tree. A batch of
// several traces makes them new roots linked to each distinct context (at
// most 128). The metrics are listed in telemetry.go.
package pipeline
