//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/testenv"
)

// diskFullConfig is an http source and a Libra worker into an http sink
// whose peer the test takes down, so that no segment is ever passed by
// every consumer and the journal cannot reclaim space. retention is the
// journal's retention block ("" for none).
func diskFullConfig(t *testing.T, dir, journalDir, ingest, lb, admin, peer, retention string) string {
	t.Helper()
	return writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal:
  dir: %[1]s
  segment_max_bytes: 256KiB
  %[7]s
admin: {listen: "%[4]s"}
log: {level: warn}
shutdown_timeout: 10s
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", path: /events}
  - name: lb
    type: lbworker
    with:
      gearman: {servers: []}
      http: {enabled: true, listen: "%[3]s"}
sinks:
  - name: peer
    type: http
    with: {url: "%[5]s/events", timeout: 2s}
    retry: {initial: 10ms, max: 200ms}
routes:
  - {name: everything, from: [ingest, lb], to: [peer]}
`, journalDir, ingest, lb, admin, peer, dir, retention))
}

// TestDiskFullRefusesEverySourceAndRecovers fills the journal's disk while
// the only sink is down, in two ways: a real tmpfs that runs out of space,
// and a journal size limit (retention max_bytes with full_policy refuse).
// Every source refuses clearly once it is full (the http source 503 with
// Retry-After and "journal full", the Libra worker FAIL with its reason
// and HTTP 503), nothing is corrupted, appends work again when space
// returns (the tmpfs's filler removed; for the size limit, the sink
// recovering and the segments behind it reclaimed), and every event
// acknowledged before, during and after reaches the sink; `sluice journal
// verify` passes.
func TestDiskFullRefusesEverySourceAndRecovers(t *testing.T) {
	tests := []struct {
		name      string
		tmpfs     bool
		retention string
	}{
		{name: "full tmpfs", tmpfs: true},
		{name: "size limit", retention: "retention: {max_bytes: 2MiB}\n  full_policy: refuse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			journalDir := filepath.Join(dir, "journal")
			filler := ""
			if tt.tmpfs {
				testenv.RequireRoot(t, "mounts a tmpfs")
				mnt := filepath.Join(dir, "mnt")
				require.NoError(t, os.Mkdir(mnt, 0o700))
				if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
					t.Fatalf("mount tmpfs as root: %v: %s", err, out)
				}
				t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
				filler = filepath.Join(mnt, "filler")
				require.NoError(t, os.WriteFile(filler, make([]byte, 1<<20), 0o600))
				journalDir = filepath.Join(mnt, "journal")
			}
			diskFullTrial(t, dir, journalDir, filler, tt.retention)
		})
	}
}

func diskFullTrial(t *testing.T, dir, journalDir, filler, retention string) {
	peer := &flakyPeer{ids: map[string]int{}}
	peer.down.Store(true)
	srv := httptest.NewServer(peer)
	t.Cleanup(srv.Close)

	ingest, lb, admin := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := diskFullConfig(t, dir, journalDir, ingest, lb, admin, srv.URL, retention)
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	waitListening(t, ingest)
	waitListening(t, lb)

	client := &http.Client{Timeout: 10 * time.Second}
	eventsURL, lbURL := "http://"+ingest+"/events", "http://"+lb+"/lbaas"
	pad := strings.Repeat("x", 2048)
	acked := map[string]bool{}
	n := 0
	post := func() (int, http.Header, string) {
		n++
		id := fmt.Sprintf("full-%d", n)
		body := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/e2e","type":"e2e.test","data":{"pad":%q}}`, id, pad)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, eventsURL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/cloudevents+json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		if resp.StatusCode == http.StatusAccepted {
			acked[id] = true
		}
		return resp.StatusCode, resp.Header, string(b)
	}

	// Fill: accepted until the journal is full, then a clear refusal.
	var status int
	var header http.Header
	var reply string
	for range 20000 {
		if status, header, reply = post(); status != http.StatusAccepted {
			break
		}
	}
	require.Equal(t, http.StatusServiceUnavailable, status, "the http source refuses a full journal: %s", reply)
	assert.NotEmpty(t, header.Get("Retry-After"), "503 says when to retry")
	assert.Contains(t, reply, "journal full")
	require.NotEmpty(t, acked, "some events were accepted before the journal filled")

	lbStatus, lbReply := postLB(client, lbURL, "full-lb-1", `{"hpcs_action":"ENABLE","key":"full-lb-1"}`)
	assert.Equal(t, http.StatusServiceUnavailable, lbStatus, lbReply)
	assert.Contains(t, lbReply, `"hpcs_response":"FAIL"`)
	assert.Contains(t, lbReply, "journal full")

	// A refusal is stable: the engine stays up and keeps refusing.
	status, _, reply = post()
	assert.Equal(t, http.StatusServiceUnavailable, status, reply)

	if filler != "" {
		// Space returns: appends work again while the sink is still down.
		require.NoError(t, os.Remove(filler))
		require.Eventually(t, func() bool { s, _, _ := post(); return s == http.StatusAccepted }, 30*time.Second, 50*time.Millisecond,
			"appends work again once space is freed")
	}

	// The sink recovers: everything acknowledged is delivered and, with a
	// size limit, the segments behind it are reclaimed so appends work
	// again.
	peer.down.Store(false)
	require.Eventually(t, func() bool { s, _, _ := post(); return s == http.StatusAccepted }, 60*time.Second, 100*time.Millisecond,
		"appends work again once the sink has drained the journal")
	lbStatus, lbReply = postLB(client, lbURL, "full-lb-2", `{"hpcs_action":"ENABLE","key":"full-lb-2"}`)
	require.Equal(t, http.StatusOK, lbStatus, lbReply)
	acked["http/full-lb-2"] = true

	missing := len(acked)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		peer.mu.Lock()
		have := make(map[string]bool, len(peer.ids))
		for id := range peer.ids {
			have[id] = true
		}
		peer.mu.Unlock()
		if missing = countMissing(t, acked, have); missing == 0 {
			break
		}
	}
	require.Zero(t, missing, "acknowledged events missing at the sink")
	require.NoError(t, e.stop(30*time.Second))

	out, stderr, code := sluice(t, nil, "journal", "verify", "--dir", journalDir)
	require.Zero(t, code, "journal verify after the disk filled: %s%s", out, stderr)
	t.Logf("%d events acknowledged (%d posts), all delivered; %d refused deliveries while the sink was down", len(acked), n, peer.failures.Load())
}
