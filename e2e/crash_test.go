package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crashConfig is a pipeline from the HTTP ingest to a JSON-lines file.
func crashConfig(t *testing.T, dir, ingest, admin string) string {
	t.Helper()
	return writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal:
  dir: %[1]s/journal
  segment_max_bytes: 1MiB
admin:
  listen: %[3]s
log: {level: warn}
shutdown_timeout: 10s
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", path: /events}
sinks:
  - name: archive
    type: file
    with: {path: %[1]s/archive.jsonl}
routes:
  - name: all
    from: [ingest]
    to: [archive]
`, dir, ingest, admin))
}

// TestSIGKILLLosesNothingAcknowledged posts events from several clients
// while the engine is killed with SIGKILL at random moments, restarts it
// each time, and checks that every event answered with 202 is in the
// journal and reaches the file sink, and that the journal verifies.
func TestSIGKILLLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := crashConfig(t, dir, ingest, admin)
	url := "http://" + ingest + "/events"

	var mu sync.Mutex
	acked := map[string]bool{}
	const trials = 5
	for trial := range trials {
		e := startEngine(t, cfg)
		e.waitReady(admin, 30*time.Second)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ctx.Err() == nil; i++ {
					id := fmt.Sprintf("t%d-w%d-%d", trial, w, i)
					if postEvent(client, url, id) == http.StatusAccepted {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(600)) * time.Millisecond)
		e.kill()
		stop()
		wg.Wait()
	}
	require.NotEmpty(t, acked, "no event was acknowledged")
	t.Logf("%d events acknowledged across %d SIGKILLs", len(acked), trials)

	// A last run drains the backlog into the sink, then stops cleanly.
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	archive := filepath.Join(dir, "archive.jsonl")
	missing := len(acked)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if missing = countMissing(t, acked, idsInLines(t, readLines(t, archive))); missing == 0 {
			break
		}
	}
	require.Zero(t, missing, "acknowledged events missing from the file sink")
	require.NoError(t, e.stop(30*time.Second))

	journalDir := filepath.Join(dir, "journal")
	out, stderr, code := sluice(t, nil, "journal", "tail", "--dir", journalDir, "--from", "1")
	require.Zero(t, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Zero(t, countMissing(t, acked, idsInLines(t, lines)), "acknowledged events missing from the journal")
	requireConsecutiveSequences(t, lines)

	_, stderr, code = sluice(t, nil, "journal", "verify", "--dir", journalDir)
	require.Zero(t, code, "journal verify: %s", stderr)
}

// idsInLines returns the data.id of every CloudEvents JSON line.
func idsInLines(t *testing.T, lines []string) map[string]bool {
	t.Helper()
	ids := make(map[string]bool, len(lines))
	for _, l := range lines {
		if l == "" {
			continue
		}
		var ev struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &ev), "line %q", l)
		ids[ev.ID] = true
	}
	return ids
}

func countMissing(t *testing.T, want, have map[string]bool) int {
	t.Helper()
	n := 0
	for id := range want {
		if !have[id] {
			n++
		}
	}
	return n
}

// requireConsecutiveSequences checks that journal lines carry sequences
// 1, 2, 3, ... with no gap or repeat.
func requireConsecutiveSequences(t *testing.T, lines []string) {
	t.Helper()
	for i, l := range lines {
		var ev struct {
			Sequence string `json:"sequence"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &ev))
		require.Equal(t, fmt.Sprint(i+1), ev.Sequence, "line %d", i)
	}
}
