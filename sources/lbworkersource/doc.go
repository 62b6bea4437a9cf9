// Package lbworkersource is an OpenStack Libra load-balancer worker on
// Sluice: it receives Libra's worker requests (UPDATE, SUSPEND, ENABLE,
// DELETE, DISCOVER, ARCHIVE, STATS, METRICS, DIAGNOSTICS) over Gearman,
// as Libra's API and pool manager sent them, and over HTTP, and turns each
// accepted request into a sluice.lb.request event. The message contract,
// its badRequest texts and every decision where Libra's documentation and
// code differ are in internal/libra.
//
// # Durability before the reply
//
// A request is validated, appended to the journal (with its dedupe record
// in the same transaction) and only then answered. A journal that refuses
// the append (full, closed) gives FAIL with hpcs_error "request not
// journaled: journal full: ..." (HTTP 503). A request that fails
// validation is answered at once (badRequest or FAIL) and not journaled;
// it is logged and counted.
//
// What PASS means depends on the action. UPDATE, SUSPEND, ENABLE and
// DELETE answer PASS once the request is durable: the sinks that route
// sluice.lb.request (the haproxy sink) apply it from the journal, at least
// once, in order. UPDATE's reply marks every node ENABLED, as Libra's did
// after a successful apply. DISCOVER (version, release from discover.*) and
// DIAGNOSTICS (gearman: a TCP connect to every configured server; network:
// one to diagnostics.network_target) are answered by the source. STATS,
// METRICS and ARCHIVE need a sink's answer: without reply_after they are
// journaled and answered FAIL saying so.
//
// # reply_after
//
// With reply_after: [SINK...] (the haproxy sink), every action but
// DISCOVER and DIAGNOSTICS is answered only once each named sink has
// completed the request (pipeline.DeliveryWatch, the core's per-sequence
// delivery completion): PASS when every sink delivered it, with the
// fields a sink attached (STATS' nodes, METRICS' loadBalancers, see
// libra.ApplyResult); FAIL with "sink NAME: REASON" when a sink gave up on
// it (a configuration HAProxy rejects), when a sink's result says FAIL
// (STATS after DELETE), or when none of a sink's routes selects it. The
// wait is bounded by reply_timeout (default 20s, below
// http.write_timeout): then FAIL "not applied in time: ..." (HTTP 504);
// the request stays journaled and its delivery continues. Run fails at
// start when a name is not a sink of the pipeline. The reply remembered
// for a dedupe key is replaced by the final one once it is known; a
// resubmission after a crash between the append and the sinks' answer
// gets the provisional reply written with the request (PASS for UPDATE,
// SUSPEND, ENABLE, DELETE, which the sink applies from the journal after
// the restart; FAIL for STATS, METRICS, ARCHIVE).
//
// # Load-balancer state events
//
// With reply_after, each change of a load balancer's state that a
// request's outcome implies is an event sluice.lb.state (data
// eventtypes.LBStateData: load_balancer (the id, else the protocol),
// protocol, port, from, to, reason, action, request_id, at), appended
// with the final reply before it is sent, severity notice (warning for
// ERROR); the VES sink sends them as stateChange, and like any event they
// route to KVP or Kubernetes. States are tracked per protocol (a Libra
// device has one load balancer per protocol) in the source's state, so a
// restart neither repeats nor misses a change: UPDATE makes its load
// balancers ACTIVE (SUSPENDED while the device is suspended) and those it
// no longer lists DELETED, or ERROR with the sink's reason when it
// failed (HAProxy keeps serving the previous file); SUSPEND makes every
// one SUSPENDED, ENABLE the suspended ones ACTIVE, DELETE every one
// DELETED. A timed-out request changes nothing (its outcome is unknown);
// other failures change nothing (nothing was applied).
//
// # Gearman
//
// The worker side of the binary protocol, in the standard library: for
// each server in gearman.servers, gearman.workers connections (default 4)
// each send SET_CLIENT_ID and CAN_DO(function) (function = the host name
// by default, as Libra registered), then GRAB_JOB_UNIQ; NO_JOB is answered
// with PRE_SLEEP and the NOOP wake-up with another grab. A connection
// works up to gearman.jobs_per_connection jobs at once (default 16): it
// grabs the next job as soon as gearmand assigned one, without waiting
// for the journal, so that many requests are in flight and share the
// journal's group commits (one grab outstanding at a time, so an idle
// worker costs what Libra's did). Every job gets a
// WORK_COMPLETE with the JSON reply, failures included (Libra's
// convention): never WORK_EXCEPTION, which hangs gearman 1.1.20 clients,
// nor WORK_FAIL, which carries no reason. A lost connection is made again
// with backoff (gearman.reconnect) and the function registered again.
// A job larger than max_request_bytes is read past and answered FAIL.
//
// # Resubmitted requests
//
// A job's unique id (gearman -u, Libra's pool manager's uuid4) or an HTTP
// Idempotency-Key makes the request idempotent: the reply is remembered in
// the source's durable state, written with the event, for the last
// dedupe_window such requests. The same id again, also after a restart,
// gets the first reply and appends nothing, so a sink never applies it
// twice. Concurrent requests with one id wait for the first. The event id
// is "gearman/FUNCTION/UNIQUE" or "http/KEY", so sinks see a stable id.
// A reply is stored as is under a state key in arrival order
// ("r/" + order in 16 hex digits + "/" + id), so that each transaction
// adds at one end of the state and forgets at the other; the "reply/" +
// id entries of earlier versions are still read, answered and forgotten.
//
// # HTTP
//
// With http.enabled, POST a Libra message to http.path on http.listen
// (loopback by default) with "Authorization: Bearer TOKEN" when http.token
// is set. The transport runs on the shared server plumbing of
// internal/httpserver, as the http source: Host and Origin checks
// (allowed_hosts; 403), max_connections, max_inflight_bytes (503 with
// Retry-After: 1 before a body that does not fit is read), TLS and mutual
// TLS (tls), read, write, idle and shutdown timeouts. max_request_bytes
// is its body limit, also for chunked bodies. The body of the response is
// Libra's reply. Status: 200 PASS, 403 a Host that is not loopback, the
// listen host or in http.allowed_hosts, or another site's Origin
// (httpserver.Guard), 400 badRequest, 422 FAIL, 413 over
// max_request_bytes, 503 not
// journaled, 504 not applied within reply_timeout, 401 unauthorized, 405
// not a POST.
//
// # Event
//
// Type sluice.lb.request, subject the function (device) name, severity
// notice, data a libra.RequestEvent: action, normalized load balancers,
// request_id, transport (gearman, http), client (gearman://SERVER/FUNCTION
// or the HTTP peer) and the message as received with
// hpcs_object_store_token replaced by "*****" (the real token is never
// stored: no sink uploads logs).
//
// # Telemetry
//
// Metrics are listed in telemetry.go; each request has a span
// lbworker.request with its transport, action and outcome, and a log line
// (token never logged).
package lbworkersource
