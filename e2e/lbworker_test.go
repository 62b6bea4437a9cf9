package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lbConfig is a Libra worker (HTTP transport) journaling into a file sink.
func lbConfig(t *testing.T, dir, ingest, admin string) string {
	t.Helper()
	return writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal:
  dir: %[1]s/journal
admin:
  listen: %[3]s
log: {level: warn}
shutdown_timeout: 10s
sources:
  - name: lb
    type: lbworker
    with:
      gearman: {servers: []}
      http: {enabled: true, listen: "%[2]s"}
sinks:
  - name: archive
    type: file
    with: {path: %[1]s/archive.jsonl}
routes:
  - name: all
    from: [lb]
    to: [archive]
`, dir, ingest, admin))
}

// postLB posts a Libra message with an Idempotency-Key and returns the
// status (0 on a transport error) and the reply.
func postLB(client *http.Client, url, key, body string) (int, string) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, ""
	}
	req.Header.Set("Idempotency-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, ""
	}
	return resp.StatusCode, string(b)
}

// TestLBWorkerSIGKILLBetweenAppendAndReply kills the engine with SIGKILL
// at random moments while clients send Libra requests, so some requests
// are journaled but never answered. After the restart every client sends
// its unanswered requests again with the same Idempotency-Key, as Libra's
// API retried: each gets PASS, and every request is in the journal exactly
// once (a resubmitted request is answered from the source's state, not
// journaled, so a sink applies it once), and reaches the sink.
func TestLBWorkerSIGKILLBetweenAppendAndReply(t *testing.T) {
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := lbConfig(t, dir, ingest, admin)
	url := "http://" + ingest + "/lbaas"
	body := func(key string) string { return `{"hpcs_action":"ENABLE","key":"` + key + `"}` }
	pass := func(key string) string { return `{"hpcs_action":"ENABLE","key":"` + key + `","hpcs_response":"PASS"}` }

	var mu sync.Mutex
	passed := map[string]bool{}
	var unanswered []string
	// A kill lands between an append and its reply only by chance (the
	// window is short): keep killing, at least minTrials times, until one
	// did.
	const minTrials, maxTrials = 4, 40
	cut, trials := 0, 0
	for trial := 0; trial < maxTrials && (trial < minTrials || cut == 0); trial++ {
		e := startEngine(t, cfg)
		e.waitReady(admin, 30*time.Second)
		waitListening(t, ingest)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ctx.Err() == nil; i++ {
					key := fmt.Sprintf("t%d-w%d-%d", trial, w, i)
					status, reply := postLB(client, url, key, body(key))
					mu.Lock()
					if status == http.StatusOK && reply == pass(key) {
						passed[key] = true
					} else {
						unanswered = append(unanswered, key)
					}
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
		e.kill()
		stop()
		wg.Wait()
		trials++
		// Requests journaled whose client got no reply: the case at issue.
		before := journaledIDs(t, filepath.Join(dir, "journal"))
		cut = 0
		for _, key := range unanswered {
			if before["http/"+key] > 0 {
				cut++
			}
		}
	}
	require.NotEmpty(t, passed)
	require.NotEmpty(t, unanswered, "SIGKILL cut no request")
	require.Positive(t, cut, "no request was journaled and left unanswered by %d SIGKILLs", trials)

	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	client := &http.Client{Timeout: 10 * time.Second}
	waitListening(t, ingest)
	for _, key := range unanswered {
		status, reply := postLB(client, url, key, body(key))
		require.Equal(t, http.StatusOK, status, key)
		require.Equal(t, pass(key), reply, key)
		passed[key] = true
	}
	archive := filepath.Join(dir, "archive.jsonl")
	missing := len(passed)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if missing = countMissing(t, keysOf(passed), idsInLines(t, readLines(t, archive))); missing == 0 {
			break
		}
	}
	require.Zero(t, missing, "passed requests missing from the sink")
	require.NoError(t, e.stop(30*time.Second))

	count := journaledIDs(t, filepath.Join(dir, "journal"))
	for key := range passed {
		assert.Equal(t, 1, count["http/"+key], "request %s journaled exactly once", key)
	}
	t.Logf("%d requests passed; %d unanswered by %d SIGKILLs were resubmitted, %d of them journaled before the kill",
		len(passed), len(unanswered), trials, cut)
}

// journaledIDs counts the sluice.lb.request events in the journal by id.
func journaledIDs(t *testing.T, journalDir string) map[string]int {
	t.Helper()
	out, stderr, code := sluice(t, nil, "journal", "tail", "--dir", journalDir, "--from", "1")
	require.Zero(t, code, stderr)
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var ev struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &ev))
		if ev.Type == "sluice.lb.request" {
			count[ev.ID]++
		}
	}
	return count
}

// keysOf maps request keys to the event ids the sink sees.
func keysOf(passed map[string]bool) map[string]bool {
	ids := make(map[string]bool, len(passed))
	for k := range passed {
		ids["http/"+k] = true
	}
	return ids
}

// waitListening waits until addr accepts connections: readiness does not
// wait for a source to listen.
func waitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
