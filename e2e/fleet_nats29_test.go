package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// debianNATS is Debian 12's nats-server package, 2.9.10, the oldest
// server fleet mode supports (.ci/deps installs it). task fleet:nats29
// runs every fleet test against it (fleettest.BinaryEnv); the test
// command runs TestFleetNATS29 on it.
const debianNATS = "/usr/sbin/nats-server"

// editConfig replaces from, which must be there, with to in the
// configuration file path.
func editConfig(t *testing.T, path, from, to string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), from, path)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), from, to, 1)), 0o600))
}

// orderedConsumer returns the ordering that keeps each agent's order
// on natsBinary's server: pinned, or shared before 2.11 (no priority
// groups: a pinned router stops at start), which keeps order only
// between failures, so that the rigs then do not check it.
func orderedConsumer(t testing.TB) (ordering string, ordered bool) {
	t.Helper()
	if major, minor, _ := natsVersion(t, natsBinary(t)); major == 2 && minor < 11 {
		return "shared", false
	}
	return "pinned", true
}

// natsVersion returns bin's version: major, minor and the whole
// (2.9.10).
func natsVersion(t testing.TB, bin string) (major, minor int, version string) {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	require.NoError(t, err, "%s --version (Debian's nats-server package, .ci/deps): %s", bin, out)
	m := regexp.MustCompile(`v((\d+)\.(\d+)\.\d+)`).FindStringSubmatch(string(out))
	require.NotNil(t, m, "%s --version: %s", bin, out)
	major, _ = strconv.Atoi(m[2])
	minor, _ = strconv.Atoi(m[3])
	return major, minor, m[1]
}

// TestFleetNATS29 runs fleet mode on Debian 12's nats-server 2.9.10: two
// agents and a router sharing the consumer deliver every acknowledged
// event once, the stream holds each record once in journal order, and
// the agents' journals verify. A router with ordering: pinned needs
// priority groups (2.11): it does not silently share but stops at start
// with an error naming the version.
func TestFleetNATS29(t *testing.T) {
	major, minor, version := natsVersion(t, debianNATS)
	require.True(t, major == 2 && minor < 11, "this test checks a server older than 2.11, %s is %s", debianNATS, version)
	base := t.TempDir()
	keepOnFailure(t, base)
	addr := freeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	r := &fleetRig{t: t, base: base, sink: newIdemSink(t), interval: 10 * time.Millisecond}
	r.nats = startNATSArgs(t, debianNATS, addr, "-a", host, "-p", port, "-js", "-sd", filepath.Join(base, "js"))
	r.routers = append(r.routers, newFleetRouter(t, base, "router-1", r.nats.url(), sharedConsumer, r.sink.url()))
	for i := range 2 {
		r.agents = append(r.agents, newFleetAgent(t, base, fmt.Sprintf("agent-%d", i+1), r.nats.addr, "sluice.fleet"))
	}
	for _, rt := range r.routers {
		r.startRouter(rt)
	}
	for _, a := range r.agents {
		r.startAgent(a)
	}
	stop := r.load()
	time.Sleep(2 * time.Second)
	stop()
	r.verify("nats-server-"+version, 0, r.recovery())

	t.Run("pinned refused", func(t *testing.T) {
		dir := filepath.Join(base, "pinned")
		require.NoError(t, os.MkdirAll(dir, 0o700))
		admin := freeAddr(t)
		// The router of TestFleetKillsLoseNothing, on a consumer of its own, pinned.
		cfg := fleetRouterConfig(t, dir, admin, r.nats.url())
		editConfig(t, cfg, "ack_wait: 5s,", "ack_wait: 5s, consumer: pinned-routers, ordering: pinned,")
		e := startEngine(t, cfg)
		select {
		case <-e.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("a pinned router on %s still runs after 60s; stderr:\n%s", version, e.stderr.String())
		}
		require.Error(t, e.err, "the engine fails")
		require.Contains(t, e.stderr.String(), "pinned_client priority groups (nats-server 2.11 or later)")
	})
}
