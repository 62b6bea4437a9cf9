// Package natsjournal is the journal backend "nats" of fleet mode. On an
// agent (journal.nats.role: agent, the default) it is the bbolt journal
// (journal.BBolt), the agent's source of truth and outbox, plus a
// forwarder that publishes every record to the fleet's JetStream stream
// (wire format and guarantees: internal/fleet). On a router (role:
// router) it is the stream itself, each sink consuming it through its own
// shared durable consumer (Routers, below).
//
//	journal:
//	  backend: nats
//	  dir: /var/lib/sluice
//	  nats:
//	    conn: {url: "tls://hub-1:4222,tls://hub-2:4222", creds_file: /etc/sluice/agent.creds, tls: {ca_file: /etc/sluice/nats-ca.pem}}
//	    agent_id: ""           # empty: derived once (host name + 8 hex), stored in the journal
//	    stream: {name: SLUICE_FLEET, subject_prefix: sluice.fleet, replicas: 3, discard: new, duplicate_window: 2m}
//	    max_in_flight: 1024
//	    batch: 256
//	    ack_timeout: 10s
//	    retry: {initial: 500ms, max: 30s, multiplier: 2, jitter: 0.2}
//
// # Why a journal backend and not a sink
//
// The design names fleet mode `journal.backend: nats`, and the issue asks
// the stream to carry each record's journal sequence and chain hash so a
// router can check order and gaps per agent and an auditor can verify the
// chain. A sink sees only the events its routes select, as Deliveries
// without the chain hash, so its sequences would have gaps a router could
// not tell from losses. The forwarder instead reads the journal itself
// (Read, then Export for the verifiable lines), every record, with its own
// cursor (Consumer, "sluice:fleet", which retention respects and the
// runner never takes for an orphaned sink cursor). Local sinks and routes
// on the agent work as with bbolt.
//
// # Forwarding
//
// The forwarder reads up to batch records from its cursor, publishes them
// in order, asynchronously, each with Nats-Msg-Id <agent id>:<sequence>,
// and commits its cursor past the acknowledged prefix. It is pipelined:
// the next batches are read and sent while earlier ones await their acks,
// up to max_in_flight records in flight, so the stream's round trip is
// not paid once per batch. A failure ends the pipeline: everything from
// the first unacknowledged record is sent again, in order. Pipelining
// never lets a record reach the stream before its predecessor: the
// reader stops at a batch it could not send (so that a publish refused
// while reconnecting is not followed by the next batch on the new
// connection), and the first batch after a failure is acknowledged
// before anything after it is sent (right after a server restart a
// publish may be refused while the stream loads and a later one stored;
// TestRestartsKeepStreamOrder). nats.go's
// reconnect buffer is off on the agent's connection (a publish during a
// reconnect fails at once), since what it replays after a reconnect would
// land behind the records the broken connection lost, out of order. Failed publishes are sent again, with the same
// ids, after the retry policy's backoff (RetryConfig.NewBackOff, the
// project's one backoff; max_elapsed does not apply, the journal holds
// the backlog): a reconnect (every pending ack fails with
// nats.ErrDisconnected), an ack timeout, a server that is down at start,
// or a full DiscardNew stream (503 / 10077, counted as stream_full; the
// agent keeps the backlog, bounded by its own retention and full_policy,
// and the backlog and lag gauges show it). A cursor commit becomes
// durable within journal.cursor_flush_interval; an agent killed before
// that publishes those records again, which the stream de-duplicates
// within its duplicate window (ack_timeout must be shorter than it).
//
// The agent id is journal.nats.agent_id, or derived the first time; it is
// stored in the forwarder's consumer state and made durable before
// anything is published, and Open refuses a configured id that differs
// from the stored one (ErrAgentIDChanged): the id is half of every
// message id.
//
// The forwarder runs only when the engine opens the journal
// (journal.ReadWrite); tools (ReadOnly, Existing) get the plain bbolt
// journal. A stream that does not exist is created when stream.create is
// set (default), and an existing one is never changed (differences are
// logged).
//
// # Routers
//
// With journal.nats.role: router a process has no journal of its own:
// Backend.Open returns a Router on the fleet stream, in every mode, so
// `sluice run` routes and delivers and the `sluice journal` tools (dlq,
// cursor) act on the shared consumers and dead letters from any router.
//
//	journal:
//	  backend: nats
//	  dir: /var/lib/sluice      # required of every journal, unused by a router
//	  nats:
//	    role: router
//	    conn: {url: "nats://hub-1:4222,nats://hub-2:4222", creds_file: /etc/sluice/router.creds}
//	    stream: {name: SLUICE_FLEET, subject_prefix: sluice.fleet}
//	    router:
//	      sources: [syslog, kvp]  # the agents' sources the routes name
//	      filter_subject: ""      # default every agent
//	      consumer_prefix: sluice-sink-
//	      ack_wait: 30s
//	      max_ack_pending: 4096
//	      ordering: shared        # or pinned (nats-server 2.11+)
//	      pinned_ttl: 15s
//	      dead_letter_bucket: SLUICE_DLQ
//	      state_bucket: SLUICE_SINK_STATE
//	      dedupe: {bucket: SLUICE_FLEET_SEEN, ttl: 168h}
//
// Routes and sinks are configured as on an agent. A router has no
// sources (a source is a config error at its position); a record
// carries its agent's source name as its origin, and routes name those
// sources, which journal.nats.router.sources declares so that `from` is
// checked as on an agent (an unknown name is an error at FILE:LINE:COL).
//
// Each sink reads through its own durable pull consumer,
// <consumer_prefix><sink> ('.' written '~'), created with Durable set and
// never deleted by a router stopping, shared by every router: the server
// splits the sink's records among the routers (at least once, none twice
// under normal operation), and a slow sink holds back only itself. The
// pipeline uses it through pipeline.ConsumerReader:
//
//   - A record's Seq is its stream sequence (the same on every router);
//     the event's Origin is the agent's source, its fleet* extensions
//     (internal/fleet) carry the agent id, sequence and chain hash.
//   - Ack after the sink delivered (the consumer's commit). While a
//     record is held (a long delivery, a retry in process, a throttle)
//     the router sends in progress every ack_wait/2; a router killed
//     holding records has them handed to another after ack_wait; one
//     that stops hands them back at once (Nak).
//   - ordering shared: a transient failure is a Nak with the retry
//     policy's delay for the delivery count n (initial × multiplier^(n-1)
//     capped at max, with jitter), so another router may take it; the
//     consumer's MaxDeliver is RetryConfig.Deliveries (the deliveries
//     whose nominal waits fit in max_elapsed; -1 when max_elapsed is 0),
//     and the last allowed delivery that fails is dead-lettered as
//     retries exhausted. A delivery that fails redelivers its whole
//     record (a record routed twice to one sink is sent twice).
//   - ordering pinned: one router at a time gets a sink's records (a
//     pinned_client priority group), so a Nak would let later records
//     overtake; a transient failure is retried in process, as on an
//     agent, with in-progress heartbeats keeping the record, and order
//     per agent holds end to end.
//   - A permanent failure (or a route's match or transform failing) is a
//     dead letter in the shared bucket, keyed by <hex sink>.<stream
//     sequence>, and then a Term (never delivered again, kept in the
//     stream). `sluice journal dlq list/redrive/delete` works from any
//     router; a redrive wakes every router's sink (the bucket is
//     watched) and the first that lists the letter delivers it.
//   - Replay: SetCursor (`sluice journal cursor set`, a new sink's
//     start_at) recreates the sink's durable with DeliverByStartSequence
//     (SetCursorTime: DeliverByStartTime), since a durable's start cannot
//     change in place; SeqAtTime finds a time's stream sequence through an
//     ordered consumer. Records held by routers at that moment are
//     abandoned and handed out again by the new durable if they are at or
//     after the new start. Cursor is the durable's ack floor plus one.
//   - De-duplication: a record is claimed in the dedupe bucket as
//     (<hex durable>.<durable creation time>.<agent>, agent sequence)
//     before delivery and marked delivered before its ack
//     (fleet.Seen): a second stream copy of an agent's record (published
//     again after the duplicate window) is acked unseen. The durable's
//     creation time is in the key so a replay is not taken for
//     duplicates of the first pass.
//   - A sink's state (Settings.State) lives in the state bucket, one key
//     per (sink, key), written before the acks of its commit (not one
//     transaction: a router killed in between redelivers those records
//     with the newer state).
//
// Stats reports the stream's extent and size and every sink durable's
// cursor; every router of a stream must configure the same sinks (or a
// consumer_prefix of its own), since a durable no configured sink reads
// is an orphaned cursor to the pipeline and is deleted after
// journal.orphan_cursor_ttl. Verify, export and checkpoints are the
// agents' (ErrRouterAdmin), and Append returns ErrRouterAppend.
//
// Tests on an in-process server: TestRoutersShareTheSinksConsumer (two
// routers, each a share, none twice, all acked),
// TestRouterNaksTransientAndDeadLettersPermanent (Nak after the policy's
// delay; Term and a letter listed and redriven from the other router),
// TestRouterReplayBySequenceAndTime, TestBackendOpensARouter.
//
// # Dead letters shared by routers
//
// DeadLetters is a pipeline.DeadLetterStore in a JetStream key/value
// bucket (DefaultDeadLetterBucket, SLUICE_DLQ), shared by the routers: a
// letter one process stores, every process that opens the bucket lists,
// deletes and redrives. One key per letter, <hex of the sink>.<stream
// sequence>; the value is the letter as the bbolt journal encodes it
// (journal.MarshalDeadLetter). A redrive request is stored in the letter
// (durable, like the bbolt store's) and broadcast through a watch on the
// bucket, so RedriveRequested's channel closes in every process;
// RequestRedrive returns once its own watch saw its puts. It passes the
// dead-letter cases of the journal contract
// (journaltest.RunDeadLetterConformance).
//
// # Metrics
//
//	sluice.fleet.forward.published         records acknowledged by the stream
//	sluice.fleet.forward.duplicates        of those, already in the stream (a retry)
//	sluice.fleet.forward.failures          records sent again, by reason: stream_full, disconnected, timeout, no_stream, other
//	sluice.fleet.forward.publish.duration  seconds from publishing a batch to its acks
//	sluice.fleet.forward.backlog           records not yet acknowledged (gauge)
//	sluice.fleet.forward.lag               age of the oldest of them, seconds (gauge; 0 when caught up)
package natsjournal
