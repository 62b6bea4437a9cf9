// Package vmfaultsource implements the "vmfault" source: faults of
// OpenStack servers, polled from Nova as the ONAP multicloud VES agent
// did, and (providers azure, aws, gcp) the scheduled maintenance of the VM Sluice
// runs on, from the Azure, AWS and GCP instance metadata services.
//
//	sources:
//	  - name: nova
//	    type: vmfault
//	    with:
//	      provider: openstack
//	      auth:
//	        url: https://keystone.example:5000/v3
//	        username: sluice
//	        user_domain: Default
//	        password: ${OS_PASSWORD}
//	        project: ops
//	        project_domain: Default
//	        region: RegionOne          # default: the first compute endpoint
//	        interface: public          # public (default), internal, admin
//	      microversion: "2.69"         # default
//	      interval: 30s                # default
//	      concurrency: 4               # Nova polls in flight, default 4
//	      watch:
//	        - {all: true}                                    # every server of the project
//	        - {server: web-1, interval: 10s}                 # by exact name
//	        - {server: 0e44cc9c-e052-415d-afbf-469b0d384170} # by id
//	        - {tenant: other, all: true}                     # another project, in project_domain
//
// # Keystone
//
// The source authenticates with POST /v3/auth/tokens (password, user by
// name and domain or by id, scoped to a project by name and domain or by
// id), reads the token from X-Subject-Token and the compute endpoint from
// the token's catalog: the first endpoint of type compute with the
// configured interface and, when set, region (region or region_id), as
// gophercloud does. Domains are given by name (user_domain,
// project_domain) or by id (user_domain_id, project_domain_id, such as
// "default"). The token is cached until its expires_at minus five
// minutes (half its lifetime for shorter tokens); a watch entry with a
// tenant has a token of its own. A 401 from Nova drops the token and
// replays the request once with a new one. Redirects are not followed.
//
// # Nova
//
// Every request carries the pinned microversion, as OpenStack-API-Version
// and X-OpenStack-Nova-API-Version. The default, 2.69, is the first that
// lists the servers of an unreachable cell (as partial records with status
// UNKNOWN) instead of leaving them out. A watch entry with all: true
// lists /servers/detail page by page (limit: page_size, default 1000, and
// marker), until a page without a next link or an empty page: Nova links
// a full last page to an empty one. A server given as a UUID is read with
// GET /servers/{id}; any other server is a name, listed with Nova's name
// filter anchored (^name$, quoted) and then compared exactly, because that
// filter is an unanchored, database-dependent regular expression.
//
// # Faults
//
// Each server record is healthy, faulty or unknown:
//
//   - faulty: status ERROR (its fault object, code, message and created,
//     is carried); a crashed guest (power_state 6) in any status; ACTIVE
//     with the guest shut down (power_state 4) and no task in progress.
//   - healthy: ACTIVE, BUILD, REBOOT, HARD_REBOOT, MIGRATING, PASSWORD
//     (the VES agent's set) and REBUILD, RESIZE, VERIFY_RESIZE,
//     REVERT_RESIZE (operations a user started). SHUTOFF, PAUSED,
//     SUSPENDED, SHELVED, SHELVED_OFFLOADED and RESCUE are states a user
//     asks for: healthy, unless stopped_is_fault: true makes them faults
//     as the VES agent did.
//   - unknown: UNKNOWN (since 2.69 also every server of a down cell) and
//     any undocumented status. Unknown neither raises nor clears: an open
//     episode stays open until the server is known again.
//
// The first faulty record opens an episode and emits one sluice.vm.fault
// (severity critical); later faulty records add nothing. A healthy record
// emits sluice.vm.fault.cleared (reason recovered). A server with an open
// episode that is missing from an answer is read with GET /servers/{id}:
// only a 404 or a DELETED record clears it (reason deleted), so neither a
// listing that raced a deletion nor a down cell before 2.69 is a false
// clear. An episode of a watch entry removed from the configuration is
// handed over or cleared (reason unwatched), as is one of a name entry
// whose server was renamed (see below). Both events carry the server's id, name, project,
// status, vm_state, task_state, power_state, fault, the episode's
// raised_at and, for a VES sink, source_name, source_id, alarm_id (the
// server id) and specific_problem; a clear carries cleared: true,
// cleared_at, its reason and the raise's reason. The raise's time is the
// event time of the raise and the raised_at of its clear, so the VES sink
// sends the clear with the raise's startEpochMicrosec.
//
// A server is one episode whatever the number of entries that cover it
// (all, its name, its id): the entry that raised it owns it, any entry
// that lists the server may clear it, and the decisions and their journal
// appends are serialized, so two entries never both raise it. Entries
// poll concurrently, so one entry's answer can arrive after another
// entry's newer answer changed the server's episode; such an answer is
// not used for that server (the entry's next poll is), so a fault just
// cleared is not raised again from a status read before the recovery.
// An owner
// that stops listing its server (renamed away, or removed from the
// configuration) hands the episode over, without an event, to an entry
// whose last answer listed it; only when none does is it cleared
// (reason unwatched). Episodes of removed entries are resolved once every
// entry has answered once, so a restart with a changed watch list neither
// clears and raises again a server still watched nor keeps a stale one.
//
// # State
//
// Every open episode is a key of the source's journal state
// ("os/PROJECT/SERVER-OR-*/SERVER_ID", the owner entry's key, path-escaped),
// written in the same batch as its raise, moved in one batch when handed
// over and deleted in the same batch as its clear. A restart therefore
// neither raises an open episode again nor misses its clear. Healthy
// servers have no state.
//
// # Errors
//
// A poll that fails is retried until it succeeds, never skipped: 429 and
// 503 wait the peer's Retry-After (seconds or an HTTP date, at most
// 10 minutes), everything else the retry backoff (default 500ms doubling
// to 30s). A failed poll changes no episode: an outage of Keystone or Nova,
// however long, raises and clears nothing, and what changed during it is
// reported by the first poll after it. A body over max_response_bytes
// (16MiB), one that does not parse, a record without id or status, or a
// field of the wrong type fails the poll with a reason; nothing in a
// response can make a fault out of a record that does not say ERROR,
// crashed, shut down or stopped. A journal that refuses a batch is
// retried the same way.
//
// # Telemetry
//
// Counters sluice.source.vmfault.polls (result), .errors (reason: auth,
// rate_limited, status_4xx, status_5xx, malformed, transport, emit),
// .faults.raised, .faults.cleared (reason) and .unknown; one span
// vmfault.poll per attempt.
//
// # Azure scheduled events
//
//	sources:
//	  - name: maintenance
//	    type: vmfault
//	    with:
//	      provider: azure
//	      interval: 1s               # default; Azure asks for about one poll a second
//	      vm_name: WestNO_0          # default: the host name
//	      approve: {after: 5m}       # optional: StartRequests 5 minutes after an event is first seen
//
// The source polls GET {endpoint}/metadata/scheduledevents?api-version=2020-07-01
// with Metadata: true (endpoint default http://169.254.169.254, no proxy)
// and keeps the events whose Resources name this VM (case-insensitive).
// Each state of each EventId is one sluice.vm.maintenance event (id
// "azure-EVENTID-STATE", subject the EventId): scheduled (EventStatus
// Scheduled), started (Started; a hardware failure skips Scheduled),
// approved (after a StartRequests POST for it), and, when the event
// disappears from the document (Azure has no Completed status),
// completed if it had started or its NotBefore has passed (a seconds-long
// Freeze can come and go between two polls of a paused VM), else
// cancelled. The data (eventtypes.VMMaintenanceData) carries event_id,
// state, kind (EventType), status (EventStatus), resource_type,
// resources, not_before (RFC 1123 as the documentation shows, or ISO 8601
// as Microsoft's mock server writes), description, origin (EventSource),
// duration_seconds (left out for 0, none, and -1, unknown),
// document_incarnation and vm. Events keep their EventId through their states as documented; a
// service that mints a new id per state (the mock server does) is
// reported as distinct events.
//
// Known events are source state ("az/EVENTID", with their status, first
// sighting and approval), committed with the events, so that no state is
// reported twice across polls and restarts and no event is approved
// twice. An answer that is not 200, not a document with
// DocumentIncarnation and Events, or holds an event without EventId, with
// an unknown EventStatus or an unreadable NotBefore fails the poll, which
// is retried: never "nothing scheduled".
//
// Approval: approve.after approves each scheduled event once it has been
// known that long. Or a route approves: the source takes events (it is a
// pipeline.EventHandler), and a route whose sink is a `source` sink
// naming it hands it sluice.vm.maintenance.approve events, whose data
// names the event_id (and, optionally, provider azure). A scheduled
// event carries approvable: true until it is approved, so a route can
// turn it into its own approval:
//
//	sinks:
//	  - name: approvals
//	    type: source
//	    with: {source: maintenance}
//	routes:
//	  - name: approve-freezes
//	    from: [maintenance]
//	    to: [approvals]
//	    match:
//	      types: [sluice.vm.maintenance]
//	      expr: 'event.data.approvable && event.data.kind == "Freeze"'
//	    transform: {type: sluice.vm.maintenance.approve}
//
// The source sends the StartRequests POST with the EventId between two
// polls, emits the approved event with the state that records it, and
// only then reports the delivery done; a failed POST or append is
// retried by the sink. An approval of an event the source does not know,
// one that has started or ended, another type or another provider is
// dead-lettered (permanent); one of an event approved before succeeds
// without a second POST. Approval releases the event for every VM it
// names, so let one VM of an availability set approve.
//
// # AWS scheduled events
//
//	sources:
//	  - name: maintenance
//	    type: vmfault
//	    with:
//	      provider: aws
//	      interval: 5s               # default
//	      token_ttl: 1h              # IMDSv2 session token lifetime, default 1h, at most 6h
//
// The source takes an IMDSv2 session token (PUT /latest/api/token with
// X-aws-ec2-metadata-token-ttl-seconds), sends it as
// X-aws-ec2-metadata-token, replaces it 15 seconds before its TTL ends
// (half the TTL for short ones) and fetches a new one, once, when a
// request is answered 401. Each poll reads
// /latest/meta-data/events/maintenance/scheduled (each event by EventId,
// kind its Code, status its State: active is scheduled, completed
// completed, canceled cancelled; not_before, not_after and
// not_before_deadline in "2 Jan 2006 15:04:05 GMT" or RFC 3339), spot/instance-action
// (an event "spot-ACTION-TIME" of kind spot-ACTION, not_before the
// action's time) and events/recommendations/rebalance (an event
// "rebalance-TIME", notice_time). A 404 from any of them is "nothing",
// the normal case; any other failure fails the poll, which is retried.
// Known events are source state ("aws/ID"), so each state is reported
// once across polls and restarts; an event that disappears while active
// is reported completed if its NotBefore has passed, else cancelled.
//
// # GCP maintenance events
//
//	sources:
//	  - name: maintenance
//	    type: vmfault
//	    with: {provider: gcp}
//
// The source follows two keys of {endpoint}/computeMetadata/v1/instance/
// (endpoint default http://metadata.google.internal) with
// Metadata-Flavor: Google and hanging GETs: wait_for_change=true,
// last_etag the ETag of the key's last answer (0 at first, answered at
// once) and timeout_sec=60, so nothing is polled while nothing changes;
// interval is only the pause between two requests (100ms).
//
// maintenance-event is NONE or an event name (MIGRATE_ON_HOST_MAINTENANCE,
// TERMINATE_ON_HOST_MAINTENANCE): a value other than NONE is one event
// "gcp-VALUE-ETAG", kind and status the value, reported scheduled, and
// completed when the value returns to NONE. Known events are source
// state ("gcp/ID").
//
// upcoming-maintenance?alt=json is {} or a window: maintenance_status
// (PENDING is scheduled, ONGOING started, COMPLETE completed; a window
// that disappears is completed once it has started or its start passed,
// else cancelled), type (kind, SCHEDULED by default), window_start_time
// (not_before, required), window_end_time (not_after),
// maintenance_reasons and can_reschedule (in the description). Keys are
// read in snake_case, as the metadata server's documented example shows,
// or camelCase, as the Compute API writes them. A window is one event
// "gcp-upcoming-TYPE-START"; a rescheduled window is a new event, the
// old one cancelled. A 404 (machine families without the key) is
// nothing upcoming, asked again after a minute. Known windows are source
// state ("gcpu/ID").
//
// 503 (which the server answers during maintenance), any other status, a
// maintenance-event value that is not upper-case letters, digits and
// underscores, and a window with a member of the wrong type, an unknown
// status or no start fail the request, which is retried with backoff:
// never "nothing happening".
//
// # Testing
//
// The module's internal/fakenova (shared with the e2e tests) is a fake
// Keystone and Nova built from the official API samples, the module's
// internal/fakeimds a fake Azure IMDS built from the documented examples,
// internal/fakegce a fake GCE metadata server built from the documented
// behaviour and example; see their docs. They are fakes, not the clouds. The AWS provider is tested
// against AWS's own simulator, amazon-ec2-metadata-mock (pinned in
// aemm_test.go), which the tests build once with go install from the Go
// module proxy into the user cache directory (sluice-peers/) and run as a
// separate process on 127.0.0.1. e2e/vmfault_test.go runs the binary from
// a Nova fault to a schema-checked VES collector across a SIGKILL.
package vmfaultsource
