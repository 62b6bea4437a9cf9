// Package natsjournal is the journal backend "nats" of an agent in fleet
// mode: the bbolt journal (journal.BBolt), the agent's source of truth
// and outbox, plus a forwarder that publishes every record to the fleet's
// JetStream stream (wire format and guarantees: internal/fleet).
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
// # Dead letters shared by routers
//
// DeadLetters is a pipeline.DeadLetterStore in a JetStream key/value
// bucket (DefaultDeadLetterBucket, SLUICE_DLQ), for routers that share
// their sinks' work: a letter one process stores, every process that opens
// the bucket lists, deletes and redrives. One key per letter, <hex of the
// sink>.<sequence>; the value is the letter as the bbolt journal encodes
// it (journal.MarshalDeadLetter). A redrive request is stored in the
// letter (durable, like the bbolt store's) and broadcast through a watch
// on the bucket, so RedriveRequested's channel closes in every process;
// RequestRedrive returns once its own watch saw its puts. It passes the
// dead-letter cases of the journal contract
// (journaltest.RunDeadLetterConformance). It is meant for the router
// design in which a sink consumes the stream itself and a letter's
// sequence is the stream's (docs/deploy.md, Router design); with today's
// routers, each with a journal of its own, sequences are per router and
// two routers' letters would collide, so no router opens it yet.
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
