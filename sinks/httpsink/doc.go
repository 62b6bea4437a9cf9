// Package httpsink implements the "http" sink: it sends events to one URL
// as CloudEvents over the CloudEvents HTTP protocol binding (version 1.0).
//
//	sinks:
//	  - name: collector
//	    type: http
//	    with:
//	      url: https://collector.example/events
//	      mode: batch            # or structured (the default)
//	      max_events: 100        # per request, batch mode
//	      max_bytes: 1MiB        # per request body, batch mode
//	      bearer_token: ${COLLECTOR_TOKEN}
//	      headers: {X-Tenant: acme}
//	      tls: {ca_file: /etc/sluice/collector-ca.pem}
//	      timeout: 10s
//
// # Modes
//
// In structured mode (the default) each event is one request, with
// Content-Type application/cloudevents+json and the event in the
// CloudEvents JSON format as the body. In batch mode a Deliver batch is
// sent as JSON arrays (Content-Type application/cloudevents-batch+json) of
// at most max_events events and max_bytes bytes; a larger batch is split
// into several requests, sent one after another in journal order. An
// event that alone exceeds max_bytes is sent in a request of its own (the
// peer may refuse it with 413, and it is dead-lettered). How many events
// make a Deliver batch, and how long the runner lingers to fill one, is
// the pipeline's batch setting, not the sink's.
//
// Requests are sent one at a time, so the peer sees events in journal
// order (except for refused ones, see Bisection, and retried ones, see
// Partial failures). Every event carries its
// journal position in the "sequence" extension attribute.
//
// # Idempotency
//
// Delivery is at least once: after a transient failure or a timeout the
// runner delivers again the events of the failed requests (see Partial
// failures), and after a crash the batch that was in flight, including
// events the peer already took. Every request therefore carries an
// Idempotency-Key header, following the IETF draft "The Idempotency-Key
// HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header), which
// defines its value as a structured-field string: the key in double
// quotes, e.g.
//
//	Idempotency-Key: "9f2c4b0e6d1a8c3b5e7f9a1b2c3d4e5f"
//
// Peers that treat the header as an opaque string de-duplicate just as
// well with the quotes. (Keys are hex; a key with characters outside
// printable ASCII would be sent as the hex of its SHA-256 prefix.)
//
//   - Structured mode: the key is the delivery's key
//     (pipeline.Delivery.Key), derived from the event's source and id and
//     the sink's name. It is stable across retries, restarts and replays,
//     so the peer can drop a repeated event by key.
//   - Batch mode: one header cannot hold a key per event, so the header
//     is the hex-encoded first 16 bytes of SHA-256 over the member keys in
//     order (each followed by a zero byte). Retries of a Deliver batch
//     re-form the same requests (splitting is deterministic), so a
//     retried request repeats its key. Batch boundaries are NOT
//     guaranteed to be the same after a restart, a redrive or a change of
//     limits, and a bisected request has the key of its half; the batch
//     key only lets a peer drop a repeated request, not a repeated event.
//
// In both modes each event in the body also carries its own delivery key
// in the "idempotencykey" extension attribute (replacing any value the
// event already had, e.g. from an upstream Sluice). This is the key a
// peer should de-duplicate events by.
//
// # Answers, retries and dead letters
//
// Classify maps the status of each answer:
//
//	2xx                      delivered
//	408, 425, 429, 5xx       transient: the events of the request fail; the runner retries them with backoff
//	3xx                      permanent ("unexpected redirect to …"); redirects are not followed
//	other 4xx                permanent: the events are dead-lettered
//
// Network errors, timeouts (ErrTimeout) and TLS handshake failures are
// transient. That includes a server certificate that fails verification
// (unknown authority, name mismatch, expired): retrying alone will not fix
// it, but an operator fixing tls.ca_file will, and nothing is dropped in
// the meantime; the sink logs a warning with that hint each time.
//
// Errors name the method, the URL (without query) and the status, with
// the start of the answer's body (at most 512 bytes, one line). Use
// errors.As with *StatusError to inspect them. A Retry-After answer (429,
// 503) is parsed and shown in the message ("retry after 30s"), but the
// wait is the runner's backoff: sinks never sleep.
//
// With follow_redirects, 307 and 308 redirects to the same scheme and host
// are followed (at most 10); other redirects would turn the request into
// a GET without the events, or send custom headers to another host, and
// stay permanent failures.
//
// Note that the Idempotency-Key draft lets a peer answer 409 while it
// still processes an earlier request with the same key, and 422 when a
// key is reused with another body. Both are permanent here, like other
// 4xx; dead-lettered events can be redriven.
//
// # Bisection
//
// When the peer refuses a batch-mode request of several events with a
// permanent status that can be about the content (400, 409, 413, 422 and
// other 4xx that do not concern the request as a whole), the sink sends
// each half of it in turn, recursively, until the refused events stand
// alone. Deliver then returns a *pipeline.BatchError listing exactly the
// refused events (by index in the Deliver batch), and the runner
// dead-letters only those; every other event has been delivered, once by
// this call (assuming the peer takes nothing of a request it refuses). k bad events among n cost O(k log n) requests. Statuses about
// the request itself (3xx, 401, 403, 404, 405, 407, 410, 415, ...) fail the
// whole request without bisecting, since every half would fail alike.
//
// In structured mode, a permanently refused event fails alone too: the
// sink goes on with the next one and returns a *pipeline.BatchError. An
// event that is not a valid CloudEvent (no id, source or type) fails
// permanently without a request.
//
// # Partial failures
//
// Deliver reports each event's outcome: when some requests of a batch
// fail transiently, it returns a *pipeline.BatchError listing exactly
// their events (as transient failures, with refused events as permanent
// ones), and the runner commits past everything else and retries only
// those, never what was taken. With ordering "strict" (the default) the
// first transient failure stops the batch: its event and every later one
// fail with that error, so events reach the peer in journal order and one
// 503 among 256 structured requests re-sends at most the rest of the
// batch, never what came before. With ordering "relaxed" the sink goes on
// with the next request while the peer answers, so one 503 re-sends one
// event, not 256; it stops, failing the rest of the batch with that error,
// after a request that got no answer (network error, timeout), an answer
// asking to wait (429, or any Retry-After), three failed requests in a
// row, or the end of ctx, and a retried event may reach the peer after
// events that followed it in the journal. A batch of which nothing was
// taken gets the plain error.
//
// # Security
//
// TLS certificates are verified by default, against the system roots or
// tls.ca_file; tls.cert_file and tls.key_file add a client certificate
// (mutual TLS). tls.insecure_skip_verify turns verification off and is
// logged as a warning at Start; it cannot be combined with tls.ca_file.
// Credentials (basic, bearer_token, header values) are pipeline.Secret
// values that never print, and the sink logs neither headers nor bodies.
// The TLS files, password_file and bearer_token_file are read once, by
// Provision (so `sluice validate` reports a missing one with its
// FILE:LINE:COL), or by Start when nothing provisioned the sink. The URL
// may not hold credentials, and its query is left out of errors, logs and
// spans. Basic or bearer authentication over a plain http URL is refused
// unless the host is loopback (localhost, 127.0.0.0/8, ::1) or
// allow_insecure_auth: true accepts that anyone on the path can read the
// credentials; headers configured for a plain http URL to another host
// are warned about at Start, since they are sent in clear too.
//
// # Tracing and telemetry
//
// Each request is a client span, a child of the runner's delivery span,
// and carries its W3C traceparent header, so the peer's server span joins
// the trace. Each event keeps its own trace context in its traceparent
// attribute. Metrics are listed in telemetry.go; the instrumentation scope
// is this package's import path.
//
// # Lifecycle
//
// Start reads the TLS and secret files (errors there are configuration
// errors) and builds the client; it does not contact the peer. Close
// closes idle connections; it is idempotent and safe without Start.
// Deliver before Start or after Close returns ErrNotStarted.
package httpsink
