// Package haproxytest has the loopback backends that the tests of the
// haproxy sink and the load-balancer end-to-end tests put behind a real
// HAProxy: an HTTP server that answers its name (with a health check that
// can be failed) and a TCP server that writes its name. Test support
// only; nothing in the engine imports it.
package haproxytest
