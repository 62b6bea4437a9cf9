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
// METRICS and ARCHIVE need a sink's answer, which needs the reply_after
// feature (a per-sequence delivery completion in the core) that this build
// does not have: they are journaled and answered FAIL with that reason.
//
// # Gearman
//
// The worker side of the binary protocol, in the standard library: for
// each server in gearman.servers, gearman.workers connections each send
// SET_CLIENT_ID and CAN_DO(function) (function = the host name by
// default, as Libra registered), then GRAB_JOB_UNIQ; NO_JOB is answered
// with PRE_SLEEP and the NOOP wake-up with another grab. Every job gets a
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
//
// # HTTP
//
// With http.enabled, POST a Libra message to http.path on http.listen
// (loopback by default) with "Authorization: Bearer TOKEN" when http.token
// is set. The body of the response is Libra's reply. Status: 200 PASS,
// 400 badRequest, 422 FAIL, 413 over max_request_bytes, 503 not
// journaled, 401 unauthorized, 405 not a POST.
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
