// Package fleet is the message boundary of Sluice's fleet mode: VM agents
// forward their journals to one NATS JetStream stream (journal backend
// nats, journal/natsjournal) and routers consume it through a durable
// consumer they share (source nats, sources/natssource). JetStream is the
// broker; nothing here stores or routes messages itself.
//
// # The wire format
//
// An agent publishes each journal record on <subject_prefix>.<agent id>
// (default sluice.fleet.<agent id>; the stream holds sluice.fleet.>):
//
//	Nats-Msg-Id       <agent id>:<journal sequence>   the stream's de-duplication key
//	Sluice-Agent      <agent id>
//	Sluice-Seq        <journal sequence>
//	Sluice-Prev-Hash  chain hash of the record before (hex)
//	Content-Type      application/cloudevents+json
//	body              the record's journal export line
//
// The body is exactly the line `sluice journal export` writes for the
// record (journal/doc.go, Export and verify): CloudEvents JSON with the
// sequence, appendtime, chainhash, sluiceorigin and sluicerecord (the
// record's payload in base64, which the chain hash covers). So the
// stream holds the event, its origin, the agent, the sequence and the
// chain, and an auditor can verify an agent's chain from the stream: the
// agent's messages in sequence order, with a manifest line whose
// prev_hash is the first message's Sluice-Prev-Hash, form an export that
// journal.VerifyExport checks. ParseMessage decodes a message for a
// router: the event keeps its id, source, type, subject, time, data and
// extensions, loses the export-only attributes, and gains fleetagent,
// fleetseq, fleetorigin, fleetchainhash and fleetappendtime (Ext*), on
// which routes can select.
//
// # Watermill at the boundary
//
// The design asks for watermill where it does real work. Publisher and
// Subscriber implement watermill's message.Publisher and
// message.Subscriber, and *message.Message (UUID, Metadata, Payload,
// Ack/Nack) is the boundary type: NewMessage builds one from a record,
// Publisher maps UUID to Nats-Msg-Id and Metadata to headers (the
// agent's forwarder uses Publisher.SendRecords, which publishes the same
// messages from the records directly, skipping that per-record copy), Subscriber
// maps a JetStream delivery back and turns Ack into +ACK and Nack into
// -NAK with a delay (Term first: +TERM). The transport underneath is
// nats.go's jetstream package, not watermill-nats, because of what
// PROTOCOLS-M2.md §7.6 found in watermill-nats v2.1.3 (its newest
// release, 2025-03-13):
//
//   - Its pkg/nats publisher sets Nats-Msg-Id to watermill's random UUID
//     (TrackMsgId) and its pkg/jetstream publisher sets none: neither can
//     carry <agent>:<seq>, so a retry after a lost ack would be stored
//     twice. Ours publishes with the caller's id.
//   - Both publish synchronously, one request/reply per message; ours is
//     asynchronous with at most MaxInFlight awaiting acks (§7.2; 5,090
//     against 104,039 msgs/s on this machine for sync against async).
//   - pkg/nats consumes with a push QueueSubscribe durable, which nats.go
//     deletes on Unsubscribe/Drain (watermill#375): a router scaling down
//     would delete the consumer all routers share. pkg/jetstream's default
//     consumer has only a Name, which the server treats as ephemeral and
//     reaps after 5 s idle (verified in §7.3), so a short outage loses
//     the consumer's position. Ours creates a pull consumer with Durable
//     set and never deletes it (TestRoutersShareTheConsumer checks it is
//     still there after every router stopped).
//   - pkg/jetstream is marked beta by its authors and its handler timeout
//     neither acks nor naks; a failed unmarshal dereferences nil (§7.6).
//
// watermill's Router and middleware are not used: a router's intake
// appends whole batches to its journal in one transaction and acks them
// after, which a per-message handler cannot express, and retry,
// dead-lettering and throttling already live in Sluice's pipeline.
//
// One deliberate difference from watermill's Subscriber contract: a
// subscription hands out up to SubscriberConfig.Outstanding messages
// before any is settled (1 gives watermill's one-at-a-time), so that a
// router can batch journal appends. While a handed-out message waits, the
// Subscriber sends +WPI (in progress) every AckWait/2.
//
// # Guarantees and their limits
//
// A record leaves the agent's journal (its forwarder cursor moves past it)
// only after the stream acknowledged it and every record before it. A
// retry uses the same Nats-Msg-Id; within the stream's duplicate window
// (default 2 min, StreamConfig.DuplicateWindow) the stream stores it once.
// A router appends to its own journal, durably, before it acks; a router
// killed in between gets the record again (at least once), and sinks make
// that harmless through their idempotency keys, which depend on the
// agent's event source and id, both kept.
//
// What an ack is worth depends on the server (§7.2): an R1 file stream
// acknowledges before fsync (sync_interval, default 2 min; Jepsen lost
// acknowledged writes on power failure with 2.12.1). To keep Sluice's
// "durable before acknowledged" across the hop, run the stream with
// replicas: 3 across failure domains, or servers with `jetstream {
// sync_interval: always }` (a few thousand msgs/s on this machine).
// Otherwise a server's power loss can lose up to sync_interval of records
// the agents already released from their outbox.
//
// # Connection, TLS and authentication
//
// Agents (journal.nats.conn) and routers (the nats source's conn) connect
// alike (ConnConfig, Connect): the client reconnects forever, and a
// failed attempt is logged at once and then at most once a minute while
// the error stays the same (a wrong password or certificate shows up in
// the log, a long outage does not flood it).
//
//	conn:
//	  url: tls://hub-1:4222,tls://hub-2:4222
//	  tls: {ca_file: /etc/sluice/nats-ca.pem, cert_file: ..., key_file: ..., server_name: ...}
//	  user: router            # with password or password_file
//	  password_file: /etc/sluice/nats.pass
//	  # or token / token_file, creds_file (JWT + nkey seed), nkey_file (seed)
//
// TLS (internal/tlsconfig) is used when any tls field is set or a URL is
// tls://; the server certificate is verified against the system roots or
// tls.ca_file, and only tls.insecure_skip_verify (tests; a warning is
// logged) turns that off. At most one way of authenticating may be set.
// Secret files are read when connecting (and by Provision, so `sluice
// validate` reports a missing one); passwords and tokens are
// pipeline.Secret, never printed, and server URLs in logs and errors
// have their user information redacted.
//
// # Stream settings
//
// StreamConfig (journal.nats.stream on agents, stream on the nats source)
// names the stream and, for the one who creates it, its settings:
//
//	name              SLUICE_FLEET
//	subject_prefix    sluice.fleet: agents publish on <prefix>.<agent id>, the stream holds <prefix>.>
//	replicas          1; 3 (or 5) in a cluster keeps acknowledged records through a server's loss
//	retention         limits (default), workqueue or interest
//	max_age           168h; 0 is unlimited
//	max_bytes         0 (unlimited)
//	discard           new: a full stream refuses publishes (503/10077) and the agents keep the backlog;
//	                  old: the oldest records are dropped, routed or not
//	storage           file (default) or memory
//	duplicate_window  2m; must exceed the agents' ack_timeout and not max_age
//
// The sync policy is the server's, not the stream's: nats-server
// acknowledges a publish to an R1 file stream before fsync (sync_interval,
// default 2 min; 2.9 fsyncs every 60 s, hard-coded). Sluice's guarantee
// (an event acknowledged at an agent reaches the sinks) then holds across
// process kills and restarts of the server, but a power loss of the server
// may lose up to sync_interval of records the agents already released.
// The documented ways to keep it across power loss are `replicas: 3` over
// failure domains (the ack comes after a quorum stored it), or servers
// run with
//
//	jetstream { store_dir: /var/lib/nats, sync_interval: always }
//
// which fsyncs before every ack (a few thousand msgs/s on this machine,
// PROTOCOLS-M2.md §7.8); a 2.12 stream's persist_mode: async overrides
// it. Create (default on) makes the stream when it is missing; an
// existing stream is never changed (differences are logged; subjects
// that do not cover <prefix>.> are an error, TestEnsureStreamSettings).
//
// # Servers
//
// Requires nats-server 2.9 (the jetstream client API); tested against
// 2.14.10 in-process and as a separate process, and against Debian 12's
// 2.9.10: task fleet:nats29 runs every fleet test (this package,
// journal/natsjournal with the journal conformance suite,
// sources/natssource, the fleet e2e tests) with that binary as the
// server (fleettest.BinaryEnv), and the test command runs
// TestFleetNATS29 on it. Older servers differ (§7.7): 2.9.10 has no
// sync_interval (60 s fsync, hard-coded), silently updates a consumer
// created with a different config (Sluice creates or updates anyway),
// ignores TermWithReason (Sluice uses plain Term), and rejects MaxDeliver
// -1 with a BackOff (Sluice sets no BackOff). Priority groups
// (pinned_client, for active/standby routers: SubscriberConfig.PinnedTTL,
// the nats source's ordering: pinned) need 2.11; an older server ignores
// them, Subscribe returns ErrNoPriorityGroups, and the nats source stops
// the engine with it (no silent fallback to sharing).
package fleet
