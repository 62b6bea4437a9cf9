package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// natsServer starts nats-server (natsBinary's) as a separate process
// with JetStream on 127.0.0.1; it is killed when the test ends.
func natsServer(t *testing.T, dir, addr string) *exec.Cmd {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(natsBinary(t), "-a", host, "-p", port, "-js", "-sd", filepath.Join(dir, "js"))
	var logs lockedBuffer
	cmd.Stderr, cmd.Stdout = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("nats-server:\n%s", logs.String())
		}
	})
	return cmd
}

func fleetAgentConfig(t *testing.T, dir, ingest, admin, natsURL string) string {
	t.Helper()
	return writeFile(t, dir, "agent.yaml", fmt.Sprintf(`
journal:
  dir: %[1]s/journal
  backend: nats
  cursor_flush_interval: 50ms
  nats:
    conn: {url: "%[4]s", reconnect_wait: 100ms}
    agent_id: vm-e2e
    retry: {initial: 50ms, max: 500ms}
admin: {listen: %[3]s}
log: {level: warn}
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", path: /events}
sinks:
  - name: local
    type: file
    with: {path: %[1]s/local.jsonl}
routes:
  - {name: all, from: [ingest], to: [local]}
`, dir, ingest, admin, natsURL))
}

func fleetRouterConfig(t *testing.T, dir, admin, natsURL string) string {
	t.Helper()
	return writeFile(t, dir, "router.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: %[2]s}
log: {level: warn}
sources:
  - name: fleet
    type: nats
    with: {conn: {url: "%[3]s", reconnect_wait: 100ms}, ack_wait: 5s, retry: {initial: 50ms, max: 500ms}}
sinks:
  - name: central
    type: file
    with: {path: %[1]s/central.jsonl}
routes:
  - {name: all, from: [fleet], to: [central]}
`, dir, admin, natsURL))
}

// TestFleetKillsLoseNothing runs an agent binary, a router binary and a
// nats-server process. Events are posted to the agent while the agent is
// SIGKILLed (between publish and ack, as it happens) and restarted, then
// the router is SIGKILLed mid-consume and restarted. Every event the agent
// acknowledged (202) reaches the router's sink, the stream holds each
// agent record exactly once (the duplicate window absorbed the agent's
// resends), and the agent's journal verifies.
func TestFleetKillsLoseNothing(t *testing.T) {
	base := t.TempDir()
	natsAddr := freeAddr(t)
	natsServer(t, base, natsAddr)
	natsURL := "nats://" + natsAddr
	adir, rdir := filepath.Join(base, "agent"), filepath.Join(base, "router")
	require.NoError(t, os.MkdirAll(adir, 0o700))
	require.NoError(t, os.MkdirAll(rdir, 0o700))
	ingest, aadmin, radmin := freeAddr(t), freeAddr(t), freeAddr(t)
	acfg := fleetAgentConfig(t, adir, ingest, aadmin, natsURL)
	rcfg := fleetRouterConfig(t, rdir, radmin, natsURL)

	router := startEngine(t, rcfg)
	router.waitReady(radmin, 30*time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	acked := map[string]bool{}
	post := func(from, to int) {
		for i := from; i < to; i++ {
			id := fmt.Sprintf("ev-%04d", i)
			if postEvent(client, "http://"+ingest+"/events", id) == http.StatusAccepted {
				acked[id] = true
			}
		}
	}
	for round := range 3 {
		agent := startEngine(t, acfg)
		agent.waitReady(aadmin, 30*time.Second)
		post(round*200, round*200+200)
		agent.kill() // records published, acks and cursor flushes in flight
	}
	agent := startEngine(t, acfg)
	agent.waitReady(aadmin, 30*time.Second)
	post(600, 700)
	router.kill() // mid-consume: appended or fetched, not yet acked
	router = startEngine(t, rcfg)
	router.waitReady(radmin, 30*time.Second)
	require.Len(t, acked, 700)

	central := filepath.Join(rdir, "central.jsonl")
	require.Eventually(t, func() bool {
		got := map[string]bool{}
		for _, l := range readLines(t, central) {
			var ev struct{ ID string }
			if json.Unmarshal([]byte(l), &ev) == nil {
				got[ev.ID] = true
			}
		}
		for id := range acked {
			if !got[id] {
				return false
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "every acknowledged event reaches the router's sink")

	nc, err := nats.Connect(natsURL)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "SLUICE_FLEET")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	seen := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		require.NoError(t, err)
		id := m.Header.Get("Nats-Msg-Id")
		require.False(t, seen[id], "record %s stored twice", id)
		seen[id] = true
	}
	require.GreaterOrEqual(t, len(seen), 700)
	require.NoError(t, agent.stop(20*time.Second))
	out, stderr, code := sluice(t, nil, "journal", "verify", "--dir", filepath.Join(adir, "journal"))
	require.Equal(t, 0, code, "journal verify: %s %s", out, stderr)
}
