package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
)

// natsProc is nats-server running as a separate process with JetStream,
// on one loopback address and store directory across restarts. The
// binary is natsBinary's.
type natsProc struct {
	t    testing.TB
	bin  string
	addr string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	logs *lockedBuffer
}

// startNATS starts nats-server on addr with its store under dir; it is
// killed when the test ends, and its log shown if the test failed.
func startNATS(t testing.TB, dir, addr string) *natsProc {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	return startNATSArgs(t, natsBinary(t), addr, "-a", host, "-p", port, "-js", "-sd", filepath.Join(dir, "js"))
}

// startNATSArgs starts bin with args, serving clients on addr (which args
// must say, with -a/-p or in a -c configuration file), like startNATS.
func startNATSArgs(t testing.TB, bin, addr string, args ...string) *natsProc {
	t.Helper()
	n := &natsProc{t: t, bin: bin, addr: addr, args: args, logs: &lockedBuffer{}}
	n.start()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("nats-server:\n%s", n.logs.String())
		}
	})
	return n
}

// natsBinary returns the nats-server binary the fleet tests run: the one
// fleettest.BinaryEnv names (another version, e.g. Debian's 2.9.10 in
// task fleet:nats29), or else the pinned one .ci/peers/nats-server builds
// into ~/.cache/sluice-peers (once; later runs reuse it). A build that
// fails fails the test, never skips it.
func natsBinary(t testing.TB) string {
	t.Helper()
	if bin := fleettest.Binary(); bin != "" {
		return bin
	}
	out, err := exec.Command("bash", filepath.Join("..", ".ci", "peers", "nats-server")).Output()
	require.NoError(t, err, "build nats-server (.ci/peers/nats-server)")
	return strings.TrimSpace(string(out))
}

// url is the server's client URL.
func (n *natsProc) url() string { return "nats://" + n.addr }

// start runs the server and waits until it takes clients.
func (n *natsProc) start() {
	n.t.Helper()
	n.cmd = exec.Command(n.bin, n.args...)
	n.cmd.Stderr, n.cmd.Stdout = n.logs, n.logs
	require.NoError(n.t, n.cmd.Start())
	done := make(chan struct{})
	n.done = done
	cmd := n.cmd
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := nats.Connect(n.url(), nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return
		}
		select {
		case <-done:
			n.t.Fatalf("nats-server exited at start:\n%s", n.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("nats-server not taking clients: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the server with SIGTERM (its orderly shutdown) and waits.
func (n *natsProc) stop() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		n.kill()
		n.t.Fatal("nats-server did not stop within 30s of SIGTERM")
	}
}

// kill ends the server with SIGKILL and waits (nothing if it is not
// running).
func (n *natsProc) kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.done
}
