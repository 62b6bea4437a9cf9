package fleettest

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// BinaryEnv names the variable that selects the nats-server the fleet
// tests run. Unset, Start runs the server in process (the version go.mod
// pins); set to a binary's path (task fleet:nats29 sets Debian's
// /usr/sbin/nats-server, 2.9.10), Start runs that binary as a separate
// process instead, and the e2e tests that start nats-server as a process
// run it instead of the one .ci/peers/nats-server builds. So one suite
// checks Sluice against another server version.
const BinaryEnv = "SLUICE_NATS_SERVER"

// Binary returns the nats-server binary BinaryEnv selects, or "" for the
// default.
func Binary() string { return os.Getenv(BinaryEnv) }

// process is nats-server running as a child process on a configuration
// file rendered from the server's Options.
type process struct {
	bin  string
	dir  string // the configuration, TLS files and ports file
	cmd  *exec.Cmd
	done chan struct{}
	logs *logBuffer
	url  string
}

// logBuffer keeps a process's output for a failed test's log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bootProcess starts s's binary on s.opts and waits until it takes
// clients; a random port is resolved from the server's ports file, so a
// restart comes back on the same one.
func (s *Server) bootProcess() {
	s.t.Helper()
	if s.proc == nil {
		s.proc = &process{bin: s.bin, dir: s.t.TempDir(), logs: &logBuffer{}}
		s.t.Cleanup(func() {
			if s.t.Failed() {
				s.t.Logf("nats-server (%s):\n%s", s.bin, s.proc.logs.String())
			}
		})
	}
	p := s.proc
	conf, err := renderConfig(&s.opts, p.dir)
	if err != nil {
		s.t.Fatalf("nats-server %s: %v", s.bin, err)
	}
	path := filepath.Join(p.dir, "nats-server.json")
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		s.t.Fatal(err)
	}
	p.cmd = exec.Command(s.bin, "-c", path)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		s.t.Fatalf("nats-server %s: %v", s.bin, err)
	}
	done := make(chan struct{})
	p.done = done
	cmd := p.cmd
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	ports := filepath.Join(p.dir, filepath.Base(s.bin)+"_"+strconv.Itoa(cmd.Process.Pid)+".ports")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if u, ok := readPorts(ports); ok {
			p.url = u
			break
		}
		select {
		case <-done:
			s.t.Fatalf("nats-server %s exited at start:\n%s", s.bin, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			s.kill()
			s.t.Fatalf("nats-server %s not ready in 30s:\n%s", s.bin, p.logs.String())
		}
	}
	if u, err := url.Parse(p.url); err == nil {
		if port, err := strconv.Atoi(u.Port()); err == nil {
			s.opts.Port = port // a restart comes back on the same port
		}
	}
}

// readPorts returns the client URL from a nats-server ports file, which
// the server writes once it listens.
func readPorts(path string) (string, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	var ports struct {
		Nats []string `json:"nats"`
	}
	if json.Unmarshal(data, &ports) != nil || len(ports.Nats) == 0 {
		return "", false
	}
	return ports.Nats[0], true
}

// stopProcess ends the server with SIGTERM (its orderly shutdown, as
// Shutdown in process) and waits; SIGKILL after 30 s.
func (s *Server) stopProcess() {
	p := s.proc
	if p == nil || p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		s.kill()
	}
	p.cmd = nil
}

func (s *Server) kill() {
	_ = s.proc.cmd.Process.Kill()
	<-s.proc.done
}

// renderConfig returns o as a nats-server configuration file (the JSON
// form of its format), with TLS key pairs written into dir. Only the
// options the fleet tests set are rendered; any other set option is an
// error, so that a test never runs against a server configured less than
// it asked for.
func renderConfig(o *server.Options, dir string) ([]byte, error) {
	if err := onlyRenderable(o); err != nil {
		return nil, err
	}
	conf := map[string]any{"host": o.Host, "port": o.Port, "ports_file_dir": dir}
	if o.JetStream {
		js := map[string]any{"store_dir": o.StoreDir}
		if o.SyncAlways {
			js["sync_interval"] = "always" // nats-server 2.10+; 2.9 refuses to start, and says so
		}
		conf["jetstream"] = js
	}
	auth := map[string]any{}
	if o.Username != "" {
		auth["user"], auth["password"] = o.Username, o.Password
	}
	if o.Authorization != "" {
		auth["token"] = o.Authorization
	}
	if len(o.Nkeys) > 0 {
		var users []map[string]string
		for _, u := range o.Nkeys {
			users = append(users, map[string]string{"nkey": u.Nkey})
		}
		auth["users"] = users
	}
	if len(auth) > 0 {
		conf["authorization"] = auth
	}
	if o.TLS {
		tls, err := writeKeyPair(o, dir)
		if err != nil {
			return nil, err
		}
		conf["tls"] = tls
	}
	return json.MarshalIndent(conf, "", "  ")
}

// writeKeyPair writes the server certificate of o.TLSConfig into dir and
// returns the tls block naming the files.
func writeKeyPair(o *server.Options, dir string) (map[string]any, error) {
	if o.TLSConfig == nil || len(o.TLSConfig.Certificates) != 1 {
		return nil, errors.New("tls needs exactly one server certificate in TLSConfig")
	}
	cert := o.TLSConfig.Certificates[0]
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, err
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := errors.Join(os.WriteFile(certFile, chain, 0o600),
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)); err != nil {
		return nil, err
	}
	return map[string]any{"cert_file": certFile, "key_file": keyFile, "timeout": o.TLSTimeout}, nil
}

// onlyRenderable fails when o sets an option renderConfig does not
// render.
func onlyRenderable(o *server.Options) error {
	rest, base := *o, defaults("")
	for _, c := range []*server.Options{&rest, &base} {
		c.Host, c.Port, c.JetStream, c.StoreDir, c.SyncAlways = "", 0, false, "", false
		c.Username, c.Password, c.Authorization, c.Nkeys = "", "", "", nil
		c.TLS, c.TLSTimeout, c.TLSConfig = false, 0, nil
	}
	if !reflect.DeepEqual(rest, base) {
		return errors.New("a Start option sets a server option that a nats-server process is not configured with (fleettest renderConfig)")
	}
	return nil
}
