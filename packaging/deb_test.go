//go:build integration

// Package packaging_test builds the Debian package with `task package`'s
// script, installs it on this machine, runs the service as its systemd
// unit would, and purges it.
package packaging_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/testenv"
)

// lockFile serializes runs of this test on one machine: it installs a
// package and creates a system user, which two runs cannot share.
const lockFile = "/run/lock/sluice-deb-test.lock"

const unitPath = "/usr/lib/systemd/system/sluice.service"

func TestDebInstallRunPurge(t *testing.T) {
	testenv.RequireRoot(t, "installs a .deb with dpkg -i")
	for _, tool := range []string{"dpkg", "dpkg-deb", "setpriv"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s is part of every Debian system", tool)
	}
	lock(t)
	require.False(t, installed(t), "a sluice package is installed on this machine; the test would replace and purge it")

	deb := buildDeb(t)
	run(t, "dpkg", "-i", deb)
	purged := false
	t.Cleanup(func() {
		if !purged {
			_ = exec.Command("dpkg", "--purge", "sluice").Run()
		}
	})
	checkInstalled(t)

	unit := readUnit(t)
	assert.Equal(t, "sluice", unit["User"])
	for k, v := range map[string]string{"ProtectSystem": "strict", "NoNewPrivileges": "yes", "StateDirectory": "sluice", "ExecReload": "/bin/kill -HUP $MAINPID"} {
		assert.Equal(t, v, unit[k], k)
	}
	// ExecStartPre validates the installed config as the service's user.
	asService(t, unit["ExecStartPre"], nil).run(t)
	out := asService(t, "/usr/bin/sluice validate -c /etc/sluice/sluice.yaml", nil).run(t)
	assert.Contains(t, out, "/etc/sluice/sluice.yaml: ok")

	runService(t, unit)

	run(t, "dpkg", "--purge", "sluice")
	purged = true
	for _, p := range []string{"/usr/bin/sluice", unitPath, "/etc/sluice", "/etc/default/sluice", "/var/lib/sluice",
		"/usr/share/man/man1/sluice.1.gz", "/usr/share/bash-completion/completions/sluice"} {
		_, err := os.Lstat(p)
		require.ErrorIs(t, err, os.ErrNotExist, "%s is left after purge", p)
	}
	_, err := user.Lookup("sluice")
	require.Error(t, err, "the sluice user is removed on purge")
	assert.False(t, installed(t))
}

// runService runs the unit's ExecStart as systemd would (user sluice,
// its working directory and umask, no new privileges) for a few
// seconds: it must become ready, journal and archive a posted event,
// survive ExecReload's SIGHUP and stop cleanly on SIGTERM.
func runService(t *testing.T, unit map[string]string) {
	t.Helper()
	admin, ingest := freeAddr(t), freeAddr(t)
	env := []string{"SLUICE_ADMIN=" + admin, "SLUICE_INGEST=" + ingest}
	svc := asService(t, unit["ExecStart"], env)
	var logs lockedBuffer
	svc.cmd.Stdout, svc.cmd.Stderr = &logs, &logs
	require.NoError(t, svc.cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- svc.cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = svc.cmd.Process.Kill()
			select { // waitReady may have taken the exit already
			case err := <-exited:
				t.Logf("sluice run killed: %v", err)
			case <-time.After(10 * time.Second):
			}
		}
	}()
	waitReady(t, admin, exited, &logs)

	body := `{"specversion":"1.0","id":"deb-1","source":"/deb-test","type":"deb.hello","data":{"hi":1}}`
	resp, err := http.Post("http://"+ingest+"/events", "application/cloudevents+json", strings.NewReader(body))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "POST /events: %s", resp.Status)

	require.NoError(t, svc.cmd.Process.Signal(syscall.SIGHUP), "ExecReload")
	time.Sleep(3 * time.Second)
	waitReady(t, admin, exited, &logs)

	archive := "/var/lib/sluice/events.jsonl"
	b, err := os.ReadFile(archive)
	require.NoError(t, err, "logs:\n%s", logs.String())
	assert.Contains(t, string(b), `"id":"deb-1"`)
	st, err := os.Stat(archive)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "UMask=0077")
	assert.Equal(t, uidOf(t, "sluice"), st.Sys().(*syscall.Stat_t).Uid, "written as the sluice user")

	require.NoError(t, svc.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		stopped = true
		require.NoError(t, err, "sluice run exits 0 on SIGTERM; logs:\n%s", logs.String())
	case <-time.After(45 * time.Second):
		t.Fatalf("sluice run did not stop within TimeoutStopSec; logs:\n%s", logs.String())
	}
}

// service is a command line of the unit run as systemd would run it.
type service struct{ cmd *exec.Cmd }

// asService prepares line (an Exec*= value) to run as the unit's user,
// in its WorkingDirectory, with UMask=0077 and NoNewPrivileges, with the
// variables of env added.
func asService(t *testing.T, line string, env []string) service {
	t.Helper()
	args := strings.Fields(line)
	require.NotEmpty(t, args, "an Exec line")
	full := append([]string{"--reuid=sluice", "--regid=sluice", "--init-groups", "--no-new-privs", "--",
		"/bin/sh", "-c", `umask 0077 && exec "$0" "$@"`}, args...)
	cmd := exec.Command("setpriv", full...)
	cmd.Dir = "/var/lib/sluice"
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=/var/lib/sluice", "STATE_DIRECTORY=/var/lib/sluice",
		"CONFIGURATION_DIRECTORY=/etc/sluice", "LANG=C.UTF-8"}, env...)
	return service{cmd: cmd}
}

func (s service) run(t *testing.T) string {
	t.Helper()
	out, err := s.cmd.CombinedOutput()
	require.NoError(t, err, "%v: %s", s.cmd.Args, out)
	return string(out)
}

func waitReady(t *testing.T, admin string, exited <-chan error, logs *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("sluice run exited (%v); logs:\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get("http://" + admin + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not ready on %s within 30s; logs:\n%s", admin, logs.String())
}

// buildDeb runs packaging/build-deb (what `task package` runs).
func buildDeb(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("bash", "packaging/build-deb", out)
	cmd.Dir = ".."
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "build-deb: %s", b)
	debs, err := filepath.Glob(filepath.Join(out, "sluice_*.deb"))
	require.NoError(t, err)
	require.Len(t, debs, 1, "build-deb: %s", b)
	info := run(t, "dpkg-deb", "--info", debs[0])
	assert.Contains(t, info, "Package: sluice")
	contents := run(t, "dpkg-deb", "--contents", debs[0])
	for _, p := range []string{"./usr/bin/sluice", "." + unitPath, "./etc/sluice/sluice.yaml", "./usr/share/man/man1/sluice.1.gz",
		"./usr/share/man/man1/sluice-run.1.gz", "./usr/share/zsh/vendor-completions/_sluice", "./usr/share/fish/vendor_completions.d/sluice.fish"} {
		assert.Contains(t, contents, p)
	}
	return debs[0]
}

func checkInstalled(t *testing.T) {
	t.Helper()
	conffiles := run(t, "dpkg-query", "-W", "-f=${Conffiles}", "sluice")
	assert.Contains(t, conffiles, "/etc/sluice/sluice.yaml", "the config is a conffile")
	u, err := user.Lookup("sluice")
	require.NoError(t, err, "postinst creates the sluice user")
	assert.Equal(t, "/var/lib/sluice", u.HomeDir)
	st, err := os.Stat("/var/lib/sluice")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), st.Mode().Perm())
	assert.Equal(t, uidOf(t, "sluice"), st.Sys().(*syscall.Stat_t).Uid)
	file := run(t, "sh", "-c", "od -An -c -N4 /usr/bin/sluice && (grep -c ld-linux /usr/bin/sluice || true)")
	assert.Contains(t, file, "E   L   F")
	assert.True(t, strings.HasSuffix(strings.TrimSpace(file), "0"), "the binary names no dynamic loader (CGO_ENABLED=0): %s", file)
	out := run(t, "/usr/bin/sluice", "version")
	assert.Contains(t, out, "sluice ")
}

// readUnit returns the unit's Key=Value settings (the last of each key).
func readUnit(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(unitPath)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func installed(t *testing.T) bool {
	t.Helper()
	out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", "sluice").Output()
	return strings.Contains(string(out), "install ok installed")
}

func uidOf(t *testing.T, name string) uint32 {
	t.Helper()
	u, err := user.Lookup(name)
	require.NoError(t, err)
	var uid uint32
	_, err = fmt.Sscan(u.Uid, &uid)
	require.NoError(t, err)
	return uid
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
	return string(out)
}

// lock takes lockFile for the rest of the test.
func lock(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX), "flock %s", lockFile)
	t.Cleanup(func() { _ = f.Close() })
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// lockedBuffer is a bytes.Buffer the command's output goroutine writes
// while the test reads it.
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
