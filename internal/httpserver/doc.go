// Package httpserver is the HTTP server plumbing of Sluice's components
// that receive requests: the http source today, the LB worker's HTTP
// transport next. It binds the listen address, with TLS from
// internal/tlsconfig (and mutual TLS with a client CA), checks a bearer
// token in constant time, bounds request bodies, tracks the requests in
// flight and shuts down gracefully.
//
// # Limits
//
// Each limit is a field of Config, inlined in the component's YAML:
//
//   - max_body_bytes (default 1MiB, at most 256MiB): a larger body is
//     refused with ErrTooLarge (413), before it is read when its length is
//     announced;
//   - max_inflight_bytes (default 32MiB, at least max_body_bytes): the
//     bytes of the bodies being read or held by the requests in flight,
//     together. A body that announces its length takes it from the budget
//     before it is read; a chunked one takes its bytes as they arrive.
//     Beyond the budget a request gets ErrBusy (503, Retry-After: 1). The
//     bytes return to the budget when the handler closes the Body, after
//     it is done with what it decoded. A byte in flight costs a few bytes
//     of memory while it is decoded and appended (the http source: about
//     5, measured with 1MB events), so the default bounds the memory of
//     requests to about 160MiB, whatever their number;
//   - max_connections (default 1024): connections open at once, idle
//     keep-alive ones included (golang.org/x/net/netutil.LimitListener);
//     beyond it new connections wait in the kernel's listen backlog until
//     one closes (and are refused by the kernel once the backlog is full);
//   - read_timeout (10s), write_timeout (30s), idle_timeout (2m) bound a
//     slow client's hold on a connection and its budget;
//   - shutdown_timeout (10s) bounds the graceful stop.
//
// # Host and Origin
//
// Server.CheckSite (a Guard) refuses, with 403 and a reason, what a
// browser could be tricked into sending: a Host that is not loopback, the
// listen address's host or in allowed_hosts (a DNS rebinding attack
// sends the attacker's own name), an Origin other than the server's own,
// and Sec-Fetch-Site cross-site or same-site. Components call it first
// for every request; the engine's admin listener uses a Guard too.
//
// # Lifecycle
//
// New builds a server from its Config; Provision reads the TLS files;
// Listen binds (provisioning first if nobody did); Serve serves until its
// context ends, then stops accepting, lets the requests in flight finish
// within shutdown_timeout and abandons the rest (Abandoned is closed and
// their contexts cancelled), and returns once every handler that called
// Enter has called Leave. Request contexts do not end with Serve's
// context: a graceful shutdown lets a request finish what it started.
package httpserver
