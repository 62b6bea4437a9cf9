package e2e

import (
	"bufio"
	"bytes"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sluiceBin is the binary under test, built once by TestMain.
var sluiceBin string

func TestMain(m *testing.M) {
	if spec := os.Getenv(attackEnv); spec != "" {
		os.Exit(attack(spec)) // TestLocalAttackerCannotUseAdminAPI's attacker
	}
	dir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sluiceBin = filepath.Join(dir, "sluice")
	build := exec.Command("go", "build", "-o", sluiceBin, "github.com/sluice-dev/sluice/cmd/sluice")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sluice:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// handedOut holds the addresses freeAddr returned, so that two parallel
// tests never get the same one (the kernel may give a port just closed to
// the next listener).
var handedOut sync.Map

// freeAddr returns a loopback address with a port that was free a moment
// ago and that no other test of this process was given.
func freeAddr(t testing.TB) string {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		if _, taken := handedOut.LoadOrStore(addr, true); !taken {
			return addr
		}
	}
}

// engine is one running sluice process.
type engine struct {
	t      testing.TB
	cmd    *exec.Cmd
	stderr *lockedBuffer
	stdout *lockedBuffer
	done   chan struct{}
	err    error
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startEngine runs `sluice run -c cfg` with env added.
func startEngine(t testing.TB, cfg string, env ...string) *engine {
	t.Helper()
	args := []string{"run"}
	if cfg != "" {
		args = append(args, "-c", cfg)
	}
	return startProcess(t, sluiceBin, args, env...)
}

// startProcess runs bin with args and env added, as an engine that is
// killed when t ends (sluice, or a peer it is compared with).
func startProcess(t testing.TB, bin string, args []string, env ...string) *engine {
	t.Helper()
	e := &engine{t: t, stderr: &lockedBuffer{}, stdout: &lockedBuffer{}, done: make(chan struct{})}
	e.cmd = exec.Command(bin, args...)
	e.cmd.Env = append(os.Environ(), env...)
	e.cmd.Stderr = e.stderr
	e.cmd.Stdout = e.stdout
	require.NoError(t, e.cmd.Start())
	go func() {
		e.err = e.cmd.Wait()
		close(e.done)
	}()
	t.Cleanup(func() {
		_ = e.cmd.Process.Kill()
		<-e.done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(bin), e.stderr.String())
		}
	})
	return e
}

// waitReady polls the admin /readyz until 200 or the timeout. Only an
// answer while this engine holds the listening socket on adminAddr counts,
// so that another process on the port cannot pass for it.
func (e *engine) waitReady(adminAddr string, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-e.done:
			e.t.Fatalf("sluice exited before ready: %v\nstderr:\n%s", e.err, e.stderr.String())
		default:
		}
		if !e.listensOn(adminAddr) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		resp, err := http.Get("http://" + adminAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("sluice not ready after %s\nstderr:\n%s", timeout, e.stderr.String())
}

// listensOn reports whether the engine process itself holds a listening
// TCP socket on addr (from /proc: its socket inodes against /proc/net/tcp).
func (e *engine) listensOn(addr string) bool {
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return false
	}
	inodes := map[string]bool{}
	fdDir := fmt.Sprintf("/proc/%d/fd", e.cmd.Process.Pid)
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err == nil && strings.HasPrefix(target, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	table, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(table), "\n")[1:] {
		fields := strings.Fields(line)
		const listen = "0A"
		if len(fields) > 9 && strings.HasSuffix(fields[1], want) && fields[3] == listen && inodes[fields[9]] {
			return true
		}
	}
	return false
}

// kill sends SIGKILL and waits for the process to end.
func (e *engine) kill() {
	_ = e.cmd.Process.Signal(syscall.SIGKILL)
	<-e.done
}

// stop sends SIGTERM and waits for a clean exit.
func (e *engine) stop(timeout time.Duration) error {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
		return e.err
	case <-time.After(timeout):
		e.kill()
		return fmt.Errorf("sluice did not stop within %s", timeout)
	}
}

// sluice runs a sluice command to completion and returns its output and
// exit code.
func sluice(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, sluiceBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if err != nil {
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "run sluice %v", args)
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// writeFile writes a file under dir and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// readLines returns the lines of a file (none if it does not exist).
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	return lines
}

// postEvent posts one structured CloudEvent of type e2e.test and returns
// the status code (0 on a transport error).
func postEvent(client *http.Client, url, id string) int {
	return postTyped(client, url, id, "e2e.test")
}

// postTyped posts one structured CloudEvent of type typ, with data
// {"id": id}, and returns the status code (0 on a transport error).
func postTyped(client *http.Client, url, id, typ string) int {
	body := `{"specversion":"1.0","id":"` + id + `","source":"/e2e","type":"` + typ + `","data":{"id":"` + id + `"}}`
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
