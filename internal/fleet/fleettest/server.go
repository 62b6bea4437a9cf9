// Package fleettest runs a nats-server with JetStream for the fleet
// packages' tests, on 127.0.0.1 only: in process by default, or the
// binary BinaryEnv names as a separate process (another server version,
// such as Debian's 2.9.10).
package fleettest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Server is a nats-server with JetStream, its store in a test's
// temporary directory: in process, or a process of the binary BinaryEnv
// names.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
	bin  string   // BinaryEnv's binary; "" in process
	proc *process // the running binary, when bin is set
}

// Start starts a server on a free loopback port; it is shut down when
// the test ends. Each option changes the server's options before it
// starts (TLS, users, ...); with BinaryEnv set, the options are rendered
// into the process's configuration file, and one that cannot be fails
// the test.
func Start(t testing.TB, options ...func(*server.Options)) *Server {
	t.Helper()
	s := &Server{t: t, opts: defaults(t.TempDir()), bin: Binary()}
	for _, o := range options {
		o(&s.opts)
	}
	s.boot()
	t.Cleanup(s.Stop)
	return s
}

// defaults are the options of every test server: JetStream on a random
// loopback port, its store in dir.
func defaults(dir string) server.Options {
	return server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	}
}

func (s *Server) boot() {
	s.t.Helper()
	if s.bin != "" {
		s.bootProcess()
		return
	}
	srv, err := server.NewServer(&s.opts)
	if err != nil {
		s.t.Fatalf("nats-server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		s.t.Fatal("nats-server did not become ready")
	}
	s.srv = srv
	if a, ok := srv.Addr().(*net.TCPAddr); ok {
		s.opts.Port = a.Port // a restart comes back on the same port
	}
}

// URL is the server's client URL.
func (s *Server) URL() string {
	if s.bin != "" {
		return s.proc.url
	}
	return s.srv.ClientURL()
}

// Stop shuts the server down (idempotent).
func (s *Server) Stop() {
	if s.bin != "" {
		s.stopProcess()
		return
	}
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
}

// Restart starts the server again on the same port and store, after
// Stop.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.boot()
}

// JetStream connects a plain client to the server, closed when the test
// ends, for a test's own checks and publishes.
func (s *Server) JetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatalf("connect to nats-server: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}
