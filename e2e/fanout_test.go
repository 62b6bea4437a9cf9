package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDownSinkDoesNotDelayAnother runs two HTTP sinks from one source: one
// whose peer is down (a closed port) for the whole test, one whose peer is
// up. The live peer must receive every event promptly, in order, while
// the other sink keeps retrying; then the journal shows the down sink's
// cursor still at the start and the live one's past the end.
func TestDownSinkDoesNotDelayAnother(t *testing.T) {
	t.Parallel()
	c := &collector{}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	down := "http://" + freeAddr(t) // nothing listens there
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "fanout.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: "%[3]s"}
log: {level: error}
shutdown_timeout: 5s
sources:
  - {name: ingest, type: http, with: {listen: "%[2]s"}}
sinks:
  - name: down
    type: http
    with: {url: "%[5]s/events", timeout: 1s}
    retry: {initial: 10ms, max: 100ms}
  - name: up
    type: http
    with: {url: "%[4]s/events", mode: batch}
routes:
  - {name: both, from: [ingest], to: [down, up]}
`, dir, ingest, admin, srv.URL, down))
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)

	client := &http.Client{Timeout: 10 * time.Second}
	const n = 200
	for i := range n {
		body := fmt.Sprintf(`{"specversion":"1.0","id":"f-%d","source":"/e2e","type":"e2e.fanout","data":{"sent":%d}}`, i, time.Now().UnixNano())
		require.NoError(t, post(client, "http://"+ingest+"/events", "application/cloudevents+json", []byte(body)))
		time.Sleep(2 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return c.received.Load() >= n }, 20*time.Second, 5*time.Millisecond,
		"the live sink receives everything while the other is down")
	c.mu.Lock()
	lat := slices.Clone(c.latencies)
	c.mu.Unlock()
	slices.Sort(lat)
	t.Logf("live sink latency with the other sink down: p50 %s, p99 %s, max %s", lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	require.Less(t, lat[len(lat)*99/100], 2*time.Second, "the down sink does not hold the live one back")

	require.NoError(t, e.stop(30*time.Second))
	out, errOut, code := sluice(t, nil, "journal", "stats", "--dir", filepath.Join(dir, "journal"))
	require.Zero(t, code, errOut)
	require.Contains(t, out, `"down": 1`, "the down sink's cursor has not moved")
	require.Contains(t, out, fmt.Sprintf(`"up": %d`, n+1))
	require.NotContains(t, out, `"down": 201`)
}
