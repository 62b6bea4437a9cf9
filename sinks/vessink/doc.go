// Package vessink implements the "ves" sink: it sends events to an ONAP VES
// event listener (the DCAE VES collector and compatible platforms) as VES
// 7.x events in the Common Event Format 30.2.1 (the default), or as VES 5.x
// events in the 28.4.1 format.
//
//	sinks:
//	  - name: ves
//	    type: ves
//	    with:
//	      url: https://collector:8443/eventListener/v7   # or the server root
//	      username: sluice
//	      password: ${VES_PASSWORD}                       # or ${file:/run/secrets/ves}, or password_file
//	      tls: {ca_file: /etc/sluice/ves-ca.pem}          # cert_file/key_file for mutual TLS
//	      rules:                                          # ahead of the built-in mapping
//	        - {routes: [probes], types: ["sluice.probe.state"], domain: fault}
//
// # Endpoints and versions
//
// Single events go to {root}/eventListener/v7 as {"event": {...}}, batches
// to {root}/eventListener/v7/eventBatch as {"eventList": [...]}, with
// Content-Type application/json (v5: the same with /v5). Version 7 writes
// the header's version "4.1" and vesEventListenerVersion (listener_version,
// default "7.2.1") and the block versions as strings ("4.0", "3.0"), and
// additional fields as hashMap objects; version 5 writes version 3.0 and
// the block versions as numbers (faultFieldsVersion 2.0, heartbeat 1.0,
// stateChange 2.0, other 1.1), additional fields as arrays of
// {"name","value"}, and has no vesEventListenerVersion, timeZoneOffset or
// notification domain. The sink sends no X-MinorVersion or X-PatchVersion
// headers (the collector checks them only when present); the body states
// its vesEventListenerVersion.
//
// # Mapping
//
// Each delivery becomes one VES event. The first rule that matches the
// delivery's route and event type decides the domain: the configured rules,
// then these built-in ones, then default_domain (other, or notification in
// v7):
//
//	sluice.heartbeat, sluice.heartbeat.*              heartbeat
//	sluice.vm.fault, sluice.vm.fault.*                fault (eventSourceType virtualMachine, alarmCondition VmFailure)
//	sluice.probe.failure[.*], sluice.probe.fault[.*]  fault (eventSourceType other, alarmCondition ProbeFailure)
//	sluice.probe.state[.*], sluice.lb.state[.*]       stateChange
//	anything else                                     other (or notification)
//
// sources/probesource emits sluice.probe.state on every transition (from,
// to: unknown, healthy, unhealthy): stateChange by default. A rule sends
// them to the fault domain instead (the example above), making probe
// failures alarms: a change to unhealthy raises (startEpochMicrosec is the
// data's failing_since), a change to healthy clears. A probe's first
// transition, unknown to healthy, is then a clear of nothing, sent as a
// harmless NORMAL fault. sluice.probe.failure and sluice.probe.fault are
// reserved for sources that emit failures as events of their own.
//
// Event data that is a JSON object is read by these member names (all
// optional; a value that does not fit the schema is ignored, never sent):
//
//	source_name, source_id          header sourceName (default: the event's subject, else reporting_entity_name) and sourceId
//	alarm_condition, alarm_id       fault alarmCondition and the alarm's identity (default: source, sourceName and the type without its clear suffix)
//	specific_problem (or reason, message, last_error, error), event_source_type, vf_status, alarm_interface, event_category
//	ves_severity, event_severity, severity   a VES severity; else the event's severity maps: critical and above CRITICAL, error MAJOR, warning MINOR, lower WARNING
//	cleared (true), raised_at (RFC 3339)      a clear, and its raise's time (failing_since, as the probe source sends it, too)
//	to/new_state/state, from/old_state/previous   stateChange states; healthy, up, ok, ... map to inService, unhealthy, down, failed, ... to outOfService, draining, disabled, unknown, ... to maintenance (rules[].states adds names); an unknown name is a permanent error (dead letter) rather than a guess
//	state_interface, interface       stateChange stateInterface (default: the rule's, then load_balancer (sluice.lb.state: one device's load balancers share its subject), the subject, the type)
//	interval                         a heartbeat's own interval (Go duration or seconds), as heartbeatsource sends it
//
// Every member of the data also goes, as text (objects and arrays as
// compact JSON), into the domain's additional-fields map
// (alarmAdditionalInformation, additionalFields, hashMap), with
// sluice.id, sluice.source and sluice.type naming the Sluice event; at most
// 64 entries of at most 1 KiB each, the rest counted in sluice.truncated.
// The other domain also carries the data object whole (jsonObjects, up to
// 64 KiB). Data that is not a JSON object is one "data" entry (text) or
// "dataBase64" (binary, and JSON-typed data that is not valid UTF-8, as
// HTTP binary mode can bring: bodies are always valid UTF-8 JSON). So an
// event of at most a few hundred KiB, far
// below VES's 2 MB, whatever the data.
//
// The built-in rules apply only to events one of Sluice's own sources
// emitted (source /sluice/sources/ORIGIN); the same types from another
// source get the default domain, so no one can raise or clear an alarm
// through them.
//
// # Header
//
//	domain                  from the rule
//	eventId                 the delivery's idempotency key (pipeline.Delivery.Key): stable across retries, restarts and replays
//	eventName               {Domain}_{publisher}_{Description}: Fault_Sluice_VmStatusError, Heartbeat_Sluice, StateChange_Sluice_ProbeState, Other_Sluice_LbRequest (rules[].event_name overrides)
//	sequence                the event's journal sequence: monotonic per source (per journal) and persistent across restarts
//	priority                faults by severity (CRITICAL, MAJOR High; MINOR Medium; else Normal); others by event severity (critical+ High, error Medium, debug Low, else Normal); rules[].priority overrides
//	reportingEntityName/Id  reporting_entity_name (default the host name), reporting_entity_id
//	sourceName, sourceId    see above
//	start/lastEpochMicrosec the event time (0 when the event has none); a fault's start is its alarm's raise time
//	timeZoneOffset          UTC±hh:mm of time_zone at the event time (v7)
//	eventType               rules[].event_type
//
// # Faults: raise, re-raise, clear
//
// A fault event is a clear when its type ends in .cleared, .clear,
// .resolved or .recovered, its data says cleared: true or a NORMAL
// severity, or its new state is in service; otherwise it raises (or
// re-raises) its alarm with eventSeverity as above. A clear has
// eventSeverity NORMAL and the startEpochMicrosec of its alarm's raise;
// re-raises keep it too. With fault_event_id: alarm the raise, re-raises
// and clear share the raise's eventId (VES 7.2 "EventId Use Cases"); the
// default, event, gives each its own (Holmes-style consumers need unique
// ids).
//
// The sink remembers each alarm's raise in a table resolved by event time
// only: an event at time t belongs to the latest episode of its alarm
// that started at or before t and was open at t. So a retried, re-delivered
// or replayed raise, re-raise or clear resolves to the same episode and is
// sent with the same bytes. The table is the sink's durable state
// (key "alarm/ALARM"), which the runner commits in the journal together
// with the sink's cursor and loads again before it builds the sink: after
// a restart or a crash the table matches the cursor, so a restart neither
// re-raises nor forgets. An alarm the table does not know (evicted, or
// raised before the journal's oldest record) has its clear use the data's
// raised_at if the source sends it, and else the clear's own time, logged
// as a warning. Up to 4 episodes per alarm and 10,000 alarms are kept;
// replaying a range older than that falls back the same way.
//
// state_file (deprecated) was where earlier versions kept the table. An
// existing file is migrated once: when the sink's state holds no alarms,
// Provision (or Start) reads it and Start copies it into the state, which
// is committed with the next cursor commit; the next Start, finding the
// migration committed, renames the file to FILE.migrated. The file is
// never written and, once the state holds alarms, never read; an
// unreadable file is logged at each start and not migrated.
//
// # Heartbeats
//
// A heartbeat reports heartbeatInterval, in whole seconds: the interval in
// force (heartbeat_interval, default 60s) or, when the heartbeat's source
// beats less often, the source's own interval (which is then logged: set
// the heartbeat source's interval to at most the interval in force). Of
// the heartbeats that fall in one interval (aligned to the epoch) only the
// first is sent; the others are acknowledged without a request and counted
// (outcome thinned), so a source beating every 10s is reported once a
// minute. "First" is the first delivered, whatever order the heartbeats'
// times arrive in: the sink remembers the heartbeat sent in each of the
// last 1,440 intervals (in memory; after a restart an interval may get a
// second one). The same heartbeat delivered again is sent again, so
// replays repeat what was sent. heartbeat_interval: 0 sends every heartbeat and
// reports its source's interval.
//
// When a successful answer carries a commandList with a
// heartbeatIntervalChange (VES 5.4.1; as {"commandType": ...} or wrapped in
// {"command": {...}}), that interval (1 to 86400 whole seconds) replaces
// the one in force from the next heartbeat on, until the sink restarts
// (the collector repeats its commands). The sink cannot make the heartbeat
// source beat faster: the sink returned by NewFactory implements
// HeartbeatReporter, and the interval in force is the gauge
// sluice.sink.ves.heartbeat.interval, for operators (or a future control
// path) to align the source. Other commands are ignored (logged at debug).
//
// # Batching and linger
//
// The runner hands Deliver a batch of what the journal holds for the sink
// (the sink's batch: {max_events, max_bytes}, default 256 events or 1 MiB).
// Deliver splits it, in journal order, into runs of consecutive events of
// one domain ("all events in a batch must be in one domain"), each run cut
// at max_batch_events (default 100) and max_batch_bytes (default 1 MB) of
// body. A run of several events is one eventBatch request; a lone event
// goes to the single-event endpoint. Events are never reordered.
//
// There is no linger timer: sinks never sleep. The runner's batches are
// self-clocking instead. While the sink is caught up, each event is sent as
// soon as it is appended (lowest latency); when events arrive faster than
// requests complete, they accumulate in the journal during each request
// and the next Deliver takes them all, so batches grow with load up to the
// limits. The time of one request is the linger, bounded by timeout.
//
// # Answers, retries and dead letters
//
//	202 and other 2xx          delivered (the reference collector's compatibility mode answers 200)
//	400 and other 4xx, 3xx     permanent: the events are dead-lettered with the VES exception as the reason,
//	                           e.g. "status 400 Bad Request: SVC0002: Bad Parameter (JSON does not conform to schema)"
//	                           (ServiceException/PolicyException matched case-insensitively, %1..%n filled in)
//	401, 403                   permanent, logged as an error naming the credentials; the rest of the batch is not sent
//	408, 425, 429, 5xx         transient: the request's events fail; the runner retries them with backoff
//	network errors, timeouts   transient, including a server certificate that fails verification (logged with a hint)
//
// A request of several events refused with a status that can concern its
// content (400, 413, 422, ...) is bisected: each half is sent in turn,
// recursively, until the refused events stand alone, and Deliver returns a
// *pipeline.BatchError naming exactly those; the others are delivered once.
// An event the mapping cannot express (an unknown state name) fails alone,
// permanently, without a request. A transient failure fails the events of
// its request only: the *pipeline.BatchError lists them as transient, the
// runner commits past the others and retries only those, with the same
// bodies and eventIds (a collector may see an event twice with the same
// id). With ordering "strict" (the default) the first transient failure
// stops the batch there, so events reach the collector in journal order (a
// fault's clear never before its raise). With ordering "relaxed" the sink
// goes on with the next request while the collector answers, and stops,
// failing the rest with that error, after a request that got no answer, a
// 429, three failures in a row or the end of ctx (a retried event then
// arrives after later ones); a batch of which nothing was taken gets the
// plain error.
//
// # Security
//
// https certificates are verified by default (system roots, or
// tls.ca_file); tls.cert_file and tls.key_file present a client
// certificate (mutual TLS, TLS 1.2 or later). Basic authentication needs
// https; the password is a pipeline.Secret (from ${VAR} or ${file:...} in
// the config, or password_file) and is never logged. The TLS files and
// password_file are read by Provision (or by Start when nothing
// provisioned the sink). The URL may not carry credentials or a query.
// tls.insecure_skip_verify is logged as a warning at Start and cannot be
// combined with tls.ca_file.
//
// # Telemetry
//
// Each request is a client span (child of the runner's delivery span,
// with a traceparent header). Metrics are listed in telemetry.go; the
// instrumentation scope is this package's import path.
//
// # Tests
//
// The reference collector (dcaegen2-collectors-ves) is a Java service that
// cannot run here, so the tests use a fake of it on loopback HTTPS, built
// from its documented behaviour and the official schemas: it validates
// every body against CommonEventFormat 30.2.1 or 28.4.1 (copied verbatim
// into testdata/schema) with a draft-04 JSON Schema validator, checks the
// domain rule and Basic credentials, and answers with scripted statuses and
// VES exceptions. The validator is checked against the reference samples
// in testdata/samples, reproducing the traps PROTOCOLS.md §3.5 lists.
package vessink
