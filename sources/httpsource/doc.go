// Package httpsource implements the "http" source: generic CloudEvents
// ingest over the CloudEvents HTTP protocol binding (version 1.0).
//
// Producers POST events to one path (default /events) on one address
// (default 127.0.0.1:8088, loopback only). Three content modes are
// accepted:
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
//	404  another path
//	405  a method other than POST (with Allow: POST)
//	413  body larger than max_body_bytes, or more than max_batch_events events
//	415  no CloudEvents content mode recognised
//	503  journal full (Retry-After: 30), journal closed or shutting down (Retry-After: 5)
//	500  any other append failure (details in the log, not the answer)
//
// Event attributes must not contain control characters, as the
// CloudEvents String type requires. A "sequence" attribute sent by a
// producer is ignored: the journal assigns sequences.
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
// Run binds the listener (bind and TLS errors are returned), serves until
// its context is cancelled, and then shuts down gracefully, bounded by
// shutdown_timeout. Source.Addr reports the bound address, which is how
// tests using port 0 find the server.
package httpsource
