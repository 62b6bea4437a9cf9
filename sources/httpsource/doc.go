// Package httpsource implements the "http" source: generic CloudEvents
// ingest over the CloudEvents HTTP protocol binding (version 1.0).
//
// Producers POST events to one path (default /events) on one address
// (default 127.0.0.1:8088, loopback only). In the default format,
// cloudevents, three content modes are accepted (format: json takes
// plain JSON instead, see below):
//
//   - structured: Content-Type application/cloudevents+json, the body is
//     one event in the CloudEvents JSON format;
//   - batched: Content-Type application/cloudevents-batch+json, the body is
//     a JSON array of such events (possibly empty), accepted all or
//     nothing: one invalid event fails the request with its index;
//   - binary: the attributes travel as ce-* headers (names
//     case-insensitive; values quoted-string unescaped, then percent-decoded
//     and required to be UTF-8, as the binding specifies; a % that starts
//     no %XY sequence is kept, because the CloudEvents Go SDK sends values
//     raw), Content-Type is datacontenttype and the body is the data. A
//     request is in binary mode when it has any ce-* header and no
//     CloudEvents media type.
//
// # Plain JSON (format: json)
//
// With format: json the source takes what Vector's http_server, Benthos'
// http_server or Fluent Bit's http output users send first: any JSON
// body, whatever its Content-Type (curl's default
// application/x-www-form-urlencoded included).
//
//	format: json
//	event_source: /apps/web          # required, a URI-reference
//	event_type: com.example.log      # required
//	event_id: '{{.request_id}}'      # optional Go template over the value
//	event_subject: '{{.host}}'       # optional
//
// A top-level array gives one event per element, appended all or nothing
// (an empty array none; more than max_batch_events elements is 413); any
// other value is one event. Each event's data is the value's bytes as
// sent, datacontenttype application/json, source and type the configured
// ones. The templates see the value (objects as maps, numbers as sent,
// null as empty): a missing key, an empty id or an attribute with a
// control character is a 400 naming the element ("element 2: event_id
// template: ... map has no entry for key ...", with "index"),
// and so is a body that is not strict JSON ("invalid JSON: invalid
// character '}' ... (byte 8)"; invalid UTF-8, lone surrogates and repeated
// members with their path, "duplicate member at $[1].b.c (byte 21)"). A
// CloudEvent (a CloudEvents media type or ce-* headers) is refused with
// 415: use a source with the default format, cloudevents, for those.
// Without event_id each event gets a fresh UUIDv7, so a retried request
// is appended again; with it, the id and the sinks' idempotency key are
// the producer's.
//
// # Delivery
//
// The events of one request are emitted with one SourceHost.Emit, that is
// one atomic, durable journal append. The answer is 202 Accepted (body
// {"accepted": N}) only after Emit returned nil: nothing acknowledged is
// lost, and nothing refused is half-written. Everything else gets a JSON
// body {"error": "..."} (with "index" for a bad batch event):
//
//	400  malformed request or invalid event (missing id, wrong specversion, ...)
//	401  missing or wrong bearer token (with WWW-Authenticate)
//	403  a Host that is not loopback, the listen host or in allowed_hosts
//	     (DNS rebinding), or a browser request from another site's page
//	     (Origin, Sec-Fetch-Site); see httpserver.Guard
//	404  another path
//	405  a method other than POST (with Allow: POST)
//	413  body larger than max_body_bytes, or more than max_batch_events events
//	415  no CloudEvents content mode recognised
//	503  journal full (Retry-After: 30), journal closed or shutting down (Retry-After: 5),
//	     more than max_inflight_bytes of bodies in flight (Retry-After: 1)
//	500  any other append failure (details in the log, not the answer)
//
// Event attributes must not contain control characters, as the
// CloudEvents String type requires. A "sequence" attribute sent by a
// producer is ignored: the journal assigns sequences.
//
// # Reserved attributes
//
// A client cannot pass for one of Sluice's own sources: an event whose
// type starts with "sluice." or whose source starts with "/sluice/", or
// that carries an extension reserved to the engine (any sluice* or kvp*
// name, appendtime, chainhash, sequence, idempotencykey), is refused with
// a 400 naming the attribute (internal/reserved). Routes set kvp*
// attributes with a transform; give ingested events types of their own.
//
// # Strict JSON
//
// The structured and batched bodies must be I-JSON (RFC 7493): a 400
// naming the attribute (and the path inside data) refuses invalid UTF-8
// anywhere, including in data (`"data":"\xc3\x28"`) and in id (which
// encoding/json would silently turn into U+FFFD, so that two ids would
// become one id and one idempotency key), \u escapes of lone surrogates,
// and a member name repeated in an object (an attribute, or a key inside
// data), e.g. `attribute "id": duplicate member "id" (byte 40)`.
//
// The time attribute is RFC 3339 as §5.6 defines it: "T" and "Z" may be
// lower case, and a leap second 23:59:60 UTC (on the last day of a
// month) is accepted and stored as 23:59:59.999999999 UTC, since Go's
// time cannot hold a second 60 (see pipeline.ParseTime).
//
// # Limits
//
// The server part of the configuration is internal/httpserver's, where
// each limit is documented: max_body_bytes (default 1MiB) per request;
// max_inflight_bytes (default 32MiB) for the bodies of all requests in
// flight together, beyond which requests get 503 with Retry-After: 1 (a
// body with a Content-Length takes its length before it is read, a
// chunked one its bytes as they arrive; they return when the request has
// been answered); max_connections (default 1024) open connections, beyond
// which new ones wait in the listen backlog; and the read, write, idle
// and shutdown timeouts. A batch body is read whole, then cut into its
// events in one scan, so a request holds its body and about as much again
// in events while it is decoded.
//
// # Tracing and telemetry
//
// Each request gets a server span, a child of the request's W3C
// traceparent header if any. An event without its own traceparent
// attribute is stamped with the request span's context, so the trace
// continues through the journal to the sinks. Metrics are listed in
// telemetry.go; the instrumentation scope is this package's import path.
//
// # Lifecycle
//
// Provision reads the TLS files (tls.cert_file, tls.key_file, and
// tls.ca_file, which requires client certificates it verifies). Run
// provisions if nobody did, binds the listener (bind and TLS errors are
// returned), serves until its context is cancelled, and then shuts down
// gracefully, bounded by shutdown_timeout. Source.Addr reports the bound
// address, which is how tests using port 0 find the server.
package httpsource
