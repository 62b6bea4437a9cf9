package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peer is an HTTP sink's endpoint that refuses (400) events whose data
// says "poison" until it is fixed, and records the ids it took.
type peer struct {
	fixed atomic.Bool
	mu    sync.Mutex
	took  map[string]bool
}

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var ev struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		http.Error(w, "not a structured cloudevent", http.StatusUnsupportedMediaType)
		return
	}
	if strings.Contains(string(body), "poison") && !p.fixed.Load() {
		http.Error(w, "poison refused", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.took[ev.ID] = true
	p.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (p *peer) has(ids ...string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if !p.took[id] {
			return false
		}
	}
	return true
}

// dlqLetter is the part of `sluice journal dlq list --json` lines the test
// reads.
type dlqLetter struct {
	Sink      string `json:"sink"`
	Seq       uint64 `json:"seq"`
	Route     string `json:"route"`
	Reason    string `json:"reason"`
	LastError string `json:"last_error"`
	Event     struct {
		ID string `json:"id"`
	} `json:"event"`
}

func dlqList(t *testing.T, args ...string) []dlqLetter {
	t.Helper()
	out, errOut, code := sluice(t, nil, append([]string{"journal", "dlq", "list", "--json"}, args...)...)
	require.Zero(t, code, errOut)
	var ls []dlqLetter
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var l dlqLetter
		require.NoError(t, json.Unmarshal([]byte(line), &l), line)
		ls = append(ls, l)
	}
	return ls
}

func letterIDs(ls []dlqLetter) []string {
	ids := []string{}
	for _, l := range ls {
		ids = append(ids, l.Event.ID)
	}
	return ids
}

// TestDeadLettersRedrive sends events through the HTTP source to an HTTP
// sink whose peer refuses some of them permanently, finds those in the
// dead-letter store through the running engine, fixes the peer, redrives
// them online and offline, and purges on a stopped engine.
func TestDeadLettersRedrive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := &peer{took: map[string]bool{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: "%[3]s"}
log: {level: warn}
shutdown_timeout: 10s
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", path: /events}
sinks:
  - name: web
    type: http
    with: {url: "%[4]s/events", timeout: 5s}
    retry: {initial: 50ms, max: 500ms}
routes:
  - name: all
    from: [ingest]
    to: [web]
`, dir, ingest, admin, srv.URL))
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			require.Equal(t, http.StatusAccepted, postEvent(client, "http://"+ingest+"/events", id))
		}
	}

	good := []string{"good-1", "good-2", "good-3", "good-4"}
	poison := []string{"poison-1", "poison-2", "poison-3"}
	post("good-1", "poison-1", "good-2", "poison-2", "poison-3", "good-3", "good-4")
	require.Eventually(t, func() bool { return p.has(good...) }, 30*time.Second, 50*time.Millisecond)
	var letters []dlqLetter
	require.Eventually(t, func() bool {
		letters = dlqList(t, "-c", cfg)
		return len(letters) == len(poison)
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, poison, letterIDs(letters), "in journal order")
	for _, l := range letters {
		assert.Equal(t, "web", l.Sink)
		assert.Equal(t, "all", l.Route)
		assert.Equal(t, "permanent", l.Reason)
		assert.Contains(t, l.LastError, "400")
		assert.Contains(t, l.LastError, "poison refused")
	}
	assert.False(t, p.has("poison-1"))

	// The table and one letter in full, through the admin listener.
	out, errOut, code := sluice(t, nil, "journal", "dlq", "list", "-c", cfg, "--reason", "BAD REQUEST")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, "LAST_ERROR")
	assert.Equal(t, 3, strings.Count(out, "permanent"), out)
	out, errOut, code = sluice(t, nil, "journal", "dlq", "show", "-c", cfg, "web", fmt.Sprint(letters[1].Seq))
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"id": "poison-2"`)
	_, errOut, code = sluice(t, nil, "journal", "dlq", "purge", "-c", cfg, "--yes")
	require.Equal(t, 2, code, "purge needs a filter")
	assert.Contains(t, errOut, "--all")

	// Fixed: an online redrive delivers them at once and empties the store.
	p.fixed.Store(true)
	out, errOut, code = sluice(t, nil, "journal", "dlq", "redrive", "-c", cfg, "--sink", "web")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, "marked 3 dead letters for redrive; the running engine is delivering them now")
	require.Eventually(t, func() bool { return p.has(poison...) }, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return len(dlqList(t, "-c", cfg)) == 0 }, 30*time.Second, 100*time.Millisecond)

	// Broken again: two more letters, then the engine stops.
	p.fixed.Store(false)
	post("poison-4", "poison-5")
	require.Eventually(t, func() bool {
		letters = dlqList(t, "-c", cfg)
		return len(letters) == 2
	}, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, e.stop(30*time.Second))

	// Stopped: redrive one offline; it is delivered on the next start.
	out, errOut, code = sluice(t, nil, "journal", "dlq", "redrive", "-c", cfg, "--sink", "web", "--seq", fmt.Sprint(letters[0].Seq))
	require.Zero(t, code, errOut)
	assert.Contains(t, out, "marked 1 dead letter for redrive; the engine delivers them when it next starts")
	p.fixed.Store(true)
	e = startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	require.Eventually(t, func() bool { return p.has("poison-4") }, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		return assert.ObjectsAreEqual([]string{"poison-5"}, letterIDs(dlqList(t, "-c", cfg)))
	}, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, e.stop(30*time.Second))
	assert.False(t, p.has("poison-5"), "not redriven")

	// Stopped: purge.
	out, errOut, code = sluice(t, nil, "journal", "dlq", "purge", "-c", cfg, "--sink", "web", "--yes")
	require.Zero(t, code, errOut)
	assert.Equal(t, "purged 1 dead letter\n", out)
	assert.Empty(t, dlqList(t, "-c", cfg))
}
