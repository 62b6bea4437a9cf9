package haproxytest

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// HTTPBackend is a loopback HTTP server: every path answers Name, except
// /healthz, which answers 200 while Healthy and 503 otherwise. Hits counts
// the requests other than /healthz.
type HTTPBackend struct {
	Name    string
	Port    int
	Healthy atomic.Bool
	Hits    atomic.Int64
	srv     *http.Server
}

// StartHTTPBackend starts a healthy HTTPBackend on a free loopback port,
// closed when the test ends.
func StartHTTPBackend(t testing.TB, name string) *HTTPBackend {
	t.Helper()
	b := &HTTPBackend{Name: name}
	b.Healthy.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b.Port = ln.Addr().(*net.TCPAddr).Port
	b.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			if !b.Healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		b.Hits.Add(1)
		_, _ = io.WriteString(w, b.Name)
	})}
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(b.Close)
	return b
}

// Close stops the backend: its port refuses connections from then on, so
// it fails every health check.
func (b *HTTPBackend) Close() { _ = b.srv.Close() }

// TCPBackend accepts connections on a free loopback port, writes name and
// a newline to each and closes it, until the test ends. It returns the
// port.
func TCPBackend(t testing.TB, name string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, name+"\n")
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}
