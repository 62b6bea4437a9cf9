package probesource

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// newTransport returns the HTTP transport shared by the probes with the
// same TLS and keep-alive settings. It never uses a proxy (a health probe
// checks the target, not the path through a proxy; WALinuxAgent does the
// same for the host plugin), speaks HTTP/1.1, and asks for no compression
// (body matching sees the bytes the server sent). With keep-alive it
// keeps idle connections for reuse: up to 32 per host, so that a burst of
// probes of one server (after a pause of the process) does not churn
// connections, and 256 in all, which bounds their memory (about 20 KiB
// each) whatever the number of targets. At most 64 connections per host
// are open at once: when the process was starved and a thousand probes of
// one server fall due together, the excess waits for a connection (within
// its timeout) instead of opening a thousand. Each check's context bounds
// dialing, TLS and reading.
func newTransport(tc *tls.Config, keepAlive bool) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{KeepAlive: -1}).DialContext,
		TLSClientConfig:        tc,
		ForceAttemptHTTP2:      false,
		DisableCompression:     true,
		DisableKeepAlives:      !keepAlive,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    32,
		MaxConnsPerHost:        64,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}
