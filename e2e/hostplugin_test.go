package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHostPluginProbeToHealthService runs the probe source's hostplugin
// kind against a fake HostGAPlugin (the real one only runs on Azure
// hosts) and the hostplugin sink against a capture server standing in for
// the WireServer's HealthService, through the running binary: the
// plugin's health and versions must arrive as GuestAgentPluginHeartbeat
// and GuestAgentPluginVersions observations.
func TestHostPluginProbeToHealthService(t *testing.T) {
	t.Parallel()
	plugin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			w.WriteHeader(http.StatusOK)
		case "/versions":
			_, _ = io.WriteString(w, `["2015-09-01","2012-11-30"]`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(plugin.Close)
	var mu sync.Mutex
	var bodies []string
	wire := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && r.URL.Path == "/HealthService" {
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(wire.Close)

	dir := t.TempDir()
	admin := freeAddr(t)
	cfg := writeFile(t, dir, "hostplugin.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: "%[2]s"}
log: {level: warn}
sources:
  - name: plugin
    type: probe
    with: {kind: hostplugin, endpoint: "%[3]s", interval: 200ms, timeout: 1s}
sinks:
  - name: host-health
    type: hostplugin
    with: {endpoint: "%[4]s"}
routes:
  - {name: health-to-host, from: [plugin], to: [host-health]}
`, dir, admin, strings.TrimPrefix(plugin.URL, "http://"), strings.TrimPrefix(wire.URL, "http://")))
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)

	has := func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range bodies {
			if strings.Contains(b, `"ObservationName": "`+name+`"`) && strings.Contains(b, `"IsHealthy": true`) {
				return true
			}
		}
		return false
	}
	require.Eventually(t, func() bool { return has("GuestAgentPluginHeartbeat") && has("GuestAgentPluginVersions") },
		20*time.Second, 20*time.Millisecond, "observations posted: %v", func() []string { mu.Lock(); defer mu.Unlock(); return bodies }())
	require.NoError(t, e.stop(30*time.Second))
}
