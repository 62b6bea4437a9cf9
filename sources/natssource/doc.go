// Package natssource is the source "nats": a router's intake from the
// fleet's JetStream stream (internal/fleet), written by agents whose
// journal backend is nats (journal/natsjournal). It appends the agents'
// events to the router's own journal, where the router's routes and sinks
// (VES, Kubernetes, HTTP, ...) take them as from any source.
//
// It is the legacy router. A router with journal.nats.role: router has
// no journal of its own: each sink consumes the stream through its own
// shared durable consumer, with Nak, Term and shared dead letters
// (journal/natsjournal, Routers). This source stays for routers that want
// a local journal in front of their sinks (one consumer for all of them,
// a StatefulSet), and the process-level fault rig (e2e) still runs it.
//
//	sources:
//	  - name: fleet
//	    type: nats
//	    with:
//	      conn: {url: "nats://hub-1:4222,nats://hub-2:4222", creds_file: /etc/sluice/router.creds}
//	      stream: {name: SLUICE_FLEET, subject_prefix: sluice.fleet}
//	      consumer: sluice-routers   # the durable consumer every router shares
//	      filter_subject: ""         # default sluice.fleet.> (all agents)
//	      batch: 256
//	      linger: 2ms
//	      ack_wait: 30s
//	      max_deliver: -1
//	      max_ack_pending: 4096
//	      nak_delay: 1s
//	      retry: {initial: 500ms, max: 30s}
//	      ordering: shared           # or pinned: one router at a time, in order (nats-server 2.11+)
//	      pinned_ttl: 15s
//	      dedupe: {bucket: SLUICE_FLEET_SEEN, ttl: 168h}
//
// # Delivery
//
// Every router with the same consumer shares one durable pull consumer
// (created or updated with Durable set, never deleted; see internal/fleet
// on watermill#375 and Name-only consumers): the server gives each record
// to one router. A router collects up to batch records (waiting at most
// linger after the first), appends them with its per-agent positions in
// one journal transaction (durable, fsync'd), and only then acks each. If
// the journal refuses the batch (full, closed) every record is nacked and
// comes back after nak_delay, to this router or another. A record neither
// acked nor nacked (a router killed between append and ack, or stopped
// mid-batch) comes back after ack_wait; while a record waits in a
// router, in-progress is sent every ack_wait/2. So records are appended
// at least once; the router's sinks see the agent's event id and source,
// so their idempotency keys (pipeline.IdempotencyKey) are the same for a
// redelivered record on any router, and idempotent sinks apply it once.
// A message that is not a fleet record is terminated (+TERM; it stays in
// the stream for inspection) and counted.
//
// # De-duplication
//
// The stream stores a record once only within its duplicate window
// (stream.duplicate_window, default 2 min): an agent that publishes a
// record again later (killed after the stream's ack and before its
// cursor flush, and restarted after the window) puts a second copy, with
// a new stream sequence, in the stream. Before appending, a router claims
// each record's (agent, sequence) in the key/value bucket dedupe.bucket,
// shared by every router: a create of the key <agent>.<sequence> holding
// the stream sequence of the copy, published asynchronously for the whole
// batch. A key that exists with another copy's stream sequence marks a
// duplicate: it is acked, not appended, and counted
// (sluice.fleet.route.duplicates). After the append (and before the
// acks) the keys are marked appended, so that a redelivery of a copy
// already appended (its ack lost, or late past ack_wait) is a duplicate
// too. A key holding this copy's own stream sequence, not marked, is a
// redelivery whose first delivery may never have been appended, and is
// appended as usual; a router killed between its append and the mark
// appends that record again (at least once). Keys live for dedupe.ttl (the
// bucket's max age; default 168h, the stream's default max_age): a second
// copy arriving later than that is appended again. If the bucket cannot be
// reached the batch is nacked and comes back. The bucket is created with
// the stream's replicas (dedupe.replicas overrides) when it does not
// exist. dedupe.bucket: "" turns this off (each copy is appended; the
// sinks' idempotency keys are still the same for both).
//
// # Order
//
// One router consuming its agents' subjects appends each agent's records
// in journal order (the stream keeps per-agent order, and the agent never
// publishes a record before its predecessor was at least sent). The
// source checks it: per agent it keeps the highest sequence appended (its
// state, committed with the events), and counts each record as in_order,
// gap (records missing before it: the agent's retention dropped them, or
// another router took them) or late (at or below the highest: a
// redelivery, or a batch another router nacked). Late records are still
// appended, since neither case proves a duplicate.
//
// What a consumer's routers do with order is the ordering setting:
//
//   - shared (default): every router of the consumer takes a share of the
//     records, at least once, none twice under normal operation. That buys
//     throughput (two routers deliver about twice what one does) and
//     costs per-agent order across the fleet: each router sees a subset,
//     in order between redeliveries, and a batch one router nacks (its
//     journal refused it) may come back after later records. Sinks that
//     need order per key then need idempotent, order-tolerant delivery
//     (the event time and sequence travel with each event).
//   - pinned: the consumer is a pinned_client priority group
//     (nats-server 2.11 or later). The server gives every record to one
//     router, the pinned one; the others stand by with pull requests
//     open, and one of them is pinned when the pinned router sent no pull
//     request for pinned_ttl (default 15s; a router renews its requests
//     every pinned_ttl/3). A batch the journal refuses is kept by the
//     router (in progress, tried again with retry) rather than nacked, so
//     nothing overtakes it. Order per agent is then journal order from end
//     to end; the price is that one router does the consumer's work
//     (TestPinnedRouterTakesEverythingInOrder). A router that stops hands
//     back what it held (nacked at once); a killed one's records are
//     redelivered after ack_wait, ahead of newer ones. An existing consumer is not switched
//     between shared and pinned: name a new consumer. On a server older
//     than 2.11 (Debian 12's 2.9.10) the server drops the priority
//     settings, and the source refuses to consume rather than silently
//     share: its Run fails with fleet.ErrNoPriorityGroups, which names
//     the version needed, and the engine stops with that error
//     (TestFleetNATS29PinnedRefused). The consumer the attempt created is
//     a shared one; after upgrading the server, delete it or name a new
//     consumer for pinned.
//
// To combine order and concurrency, partition the agents: agents of one
// site publish under their own prefix (journal.nats.stream.subject_prefix:
// sluice.fleet.site1, within the stream's sluice.fleet.>), and each
// partition has its own consumer name and filter_subject
// (sluice.fleet.site1.>), pinned to one router at a time; different
// partitions are pinned to different routers. On a server older than
// 2.11 (no priority groups) the nearest is ordering shared with one
// router per partition, which keeps order only between failures: a batch
// that router cannot append is handed back (nacked) and comes back after
// later records, and when the failure is the server itself going away
// between delivery and ack (the dedupe claim or the ack cannot reach it)
// the batch comes back only after ack_wait, behind everything the agents
// forwarded meanwhile. Pinned keeps such a batch and appends it first
// (TestFleetFaultServerOutage stops nats-server under load with pinned
// partitions and checks each agent's order at the sink).
//
// # Metrics
//
//	sluice.fleet.route.received   records received (redeliveries included)
//	sluice.fleet.route.appended   records appended, then acked
//	sluice.fleet.route.order      records by verdict: in_order, gap, late
//	sluice.fleet.route.missing    agent sequences skipped over by gaps
//	sluice.fleet.route.malformed  messages terminated as not fleet records
//	sluice.fleet.route.duplicates records acked without appending: another copy of the (agent, sequence) was taken
//	sluice.fleet.route.lag        seconds from the agent's journal append to this router's
//	sluice.fleet.route.pending    records in the stream no router has been given yet (gauge)
package natssource
