package haproxysink_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/haproxytest"
	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/haproxysink"
)

// lab is a real HAProxy in master-worker mode in a temporary directory,
// driven by a haproxy sink.
type lab struct {
	t     testing.TB
	dir   string
	cfg   *haproxysink.Config
	state *pipeline.MemoryState
	sink  pipeline.Sink
	cmd   *exec.Cmd
	done  chan struct{}
	seq   uint64
}

func newLab(t testing.TB) *lab {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is required by this test and was not found (%v): apt-get install -y --no-install-recommends haproxy", err)
	}
	dir := t.TempDir()
	cfg := haproxysink.NewFactory().DefaultConfig().(*haproxysink.Config)
	cfg.ConfigPath = filepath.Join(dir, "haproxy.cfg")
	cfg.Binary = bin
	cfg.Reload.MasterSocket = filepath.Join(dir, "master.sock")
	cfg.StatsSocket = filepath.Join(dir, "stats.sock")
	cfg.BindAddress = "127.0.0.1"
	cfg.User, cfg.Group, cfg.Log = "", "", ""
	// The tests run on a loaded machine: a check or reload that takes long
	// is not what they test (TestSlowCheckIsTransient is).
	cfg.Reload.Timeout = time.Minute
	l := &lab{t: t, dir: dir, cfg: cfg, state: pipeline.NewMemoryState(nil)}
	l.newSink()
	require.NoError(t, l.sink.Start(t.Context()), "start writes the base configuration")
	l.startHAProxy()
	t.Cleanup(func() {
		l.stopHAProxy()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "haproxy.log"))
			t.Logf("haproxy's log:\n%s", b)
		}
	})
	return l
}

func (l *lab) newSink() {
	set := pipeline.NopSettings("haproxy")
	set.State = l.state
	s, err := haproxysink.NewFactory().NewSink(l.t.Context(), set, l.cfg)
	require.NoError(l.t, err)
	l.sink = s
}

func (l *lab) startHAProxy() {
	l.t.Helper()
	log, err := os.Create(filepath.Join(l.dir, "haproxy.log"))
	require.NoError(l.t, err)
	l.cmd = exec.Command(l.cfg.Binary, "-W", "-db", "-S", l.cfg.Reload.MasterSocket, "-f", l.cfg.ConfigPath)
	l.cmd.Stdout, l.cmd.Stderr = log, log
	require.NoError(l.t, l.cmd.Start())
	l.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}, log *os.File) { _ = cmd.Wait(); _ = log.Close(); close(done) }(l.cmd, l.done, log)
	waitMaster(l.t, l.cfg.Reload.MasterSocket)
}

// waitMaster waits until HAProxy's master answers "show proc" with a
// worker. A connect alone is not enough: the master accepts on its socket,
// then re-executes itself after forking the first worker, and refuses
// connections until the new image listens again.
func waitMaster(t testing.TB, socket string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := masterCommand(socket, "show proc")
		if err == nil && strings.Contains(out, "# workers\n") && strings.Contains(out, " worker ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy master did not come up with a worker: %q %v", out, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// masterCommand sends one command to the master CLI and reads the answer.
func masterCommand(socket, cmd string) (string, error) {
	c, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	_ = c.(*net.UnixConn).CloseWrite()
	b, err := io.ReadAll(c)
	return string(b), err
}

func (l *lab) stopHAProxy() {
	if l.cmd == nil {
		return
	}
	_ = l.cmd.Process.Kill()
	<-l.done
	l.cmd = nil
}

// deliver sends one Libra message, as the lbworker source would have
// journaled it, to the sink.
func (l *lab) deliver(msg string) error {
	l.t.Helper()
	d, ref := libra.Decode([]byte(msg))
	require.Nil(l.t, ref, "message refused: %v", ref)
	data, err := jsonMarshal(libra.NewRequestEvent(d, "r"+strconv.FormatUint(l.seq, 10), libra.TransportHTTP, "test"))
	require.NoError(l.t, err)
	l.seq++
	ctx, cancel := context.WithTimeout(l.t.Context(), 30*time.Second)
	defer cancel()
	return l.sink.Deliver(ctx, []pipeline.Delivery{{Event: pipeline.Event{
		ID: fmt.Sprint(l.seq), Type: libra.EventRequest, Data: data, Sequence: l.seq,
	}}})
}

// backend is a loopback HTTP server answering its name (shared with the
// e2e tests).
type backend = haproxytest.HTTPBackend

func startBackend(t testing.TB, name string) *backend { return haproxytest.StartHTTPBackend(t, name) }

// get fetches through HAProxy without cookies and returns the body.
func get(port int) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/") //nolint:noctx // bounded by the client timeout
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

// readTCP connects through HAProxy and reads one line.
func readTCP(port int) (string, error) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return line, err
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// eventually polls cond every 50ms for up to 15s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
