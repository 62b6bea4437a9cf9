package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/haproxytest"
)

// lbHAProxy is the binary running an lbworker source (HTTP on ingest,
// token e2e-token) and a haproxy sink, with a real HAProxy in
// master-worker mode on the sink's file.
type lbHAProxy struct {
	e             *engine
	ingest, admin string
}

// lbOptions are extra YAML for startLBHAProxy, indented by the caller:
// source lines go into the lbworker's "with", sink lines into the haproxy
// sink's entry; gearman replaces the source's "gearman" setting (none by
// default); sinks and routes are further entries of those lists.
type lbOptions struct {
	source, sink, gearman, sinks, routes string
}

// startLBHAProxy starts the binary with an lbworker source and a haproxy
// sink, and a real HAProxy in master-worker mode on the sink's file.
func startLBHAProxy(t *testing.T, o lbOptions) lbHAProxy {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is required by this test and was not found (%v): apt-get install -y --no-install-recommends haproxy", err)
	}
	if o.gearman == "" {
		o.gearman = "{servers: []}"
	}
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfgPath, master := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "master.sock")
	cfg := writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal:
  dir: %[1]s/journal
admin:
  listen: %[3]s
log: {level: warn}
sources:
  - name: lb
    type: lbworker
    with:
      gearman: %[9]s
      http: {enabled: true, listen: "%[2]s", token: e2e-token}
%[7]s
sinks:
  - name: haproxy
    type: haproxy
    with:
      config_path: %[4]s
      binary: %[5]s
      reload: {master_socket: %[6]s}
      stats_socket: %[1]s/stats.sock
      bind_address: 127.0.0.1
      user: ""
      group: ""
      log: ""
%[8]s
%[10]s
routes:
  - name: lb
    from: [lb]
    to: [haproxy]
%[11]s
`, dir, ingest, admin, cfgPath, bin, master, o.source, o.sink, o.gearman, o.sinks, o.routes))
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	waitListening(t, ingest)

	// The sink wrote the base file at start; HAProxy runs on it.
	hapLog, err := os.Create(filepath.Join(dir, "haproxy.log"))
	require.NoError(t, err)
	hap := exec.Command(bin, "-W", "-db", "-S", master, "-f", cfgPath)
	hap.Stdout, hap.Stderr = hapLog, hapLog
	require.NoError(t, hap.Start())
	t.Cleanup(func() {
		_ = hap.Process.Kill()
		_ = hap.Wait()
		_ = hapLog.Close()
		if t.Failed() {
			b, _ := os.ReadFile(hapLog.Name())
			t.Logf("haproxy's log:\n%s", b)
		}
	})
	waitHAProxyMaster(t, master)
	return lbHAProxy{e: e, ingest: ingest, admin: admin}
}

// waitHAProxyMaster waits until HAProxy's master answers "show proc" with
// a worker. A connect alone is not enough: the master accepts on its
// socket, then re-executes itself after forking the first worker and
// refuses connections until the new image listens again.
func waitHAProxyMaster(t *testing.T, socket string) {
	t.Helper()
	var out []byte
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("unix", socket, 5*time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.WriteString(c, "show proc\n")
			_ = c.(*net.UnixConn).CloseWrite()
			out, _ = io.ReadAll(c)
			_ = c.Close()
			if strings.Contains(string(out), "# workers\n") && strings.Contains(string(out), " worker ") {
				return
			}
		}
		require.True(t, time.Now().Before(deadline), "haproxy master with a worker: %q %v", out, err)
	}
}

// TestLBWorkerToHAProxy runs the real binary with an lbworker source and
// a haproxy sink against a real HAProxy in master-worker mode: a Libra
// UPDATE posted over HTTP is answered PASS, and HAProxy then balances
// traffic over the nodes it names; SUSPEND stops the traffic and ENABLE
// brings it back.
func TestLBWorkerToHAProxy(t *testing.T) {
	lb := startLBHAProxy(t, lbOptions{})
	ingest, e := lb.ingest, lb.e
	names := []string{"n1", "n2"}
	ports := make([]int, len(names))
	for i, name := range names {
		ports[i] = haproxytest.StartHTTPBackend(t, name).Port
	}
	lbPort, err := strconv.Atoi(freeAddr(t)[len("127.0.0.1:"):])
	require.NoError(t, err)

	url := "http://" + ingest + "/lbaas"
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(msg string) string {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(msg))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer e2e-token")
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		return string(b)
	}
	update := fmt.Sprintf(`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","port":%d,"nodes":[{"id":"1","address":"127.0.0.1","port":%d},{"id":"2","address":"127.0.0.1","port":%d}]}]}`, lbPort, ports[0], ports[1])
	require.Contains(t, send(update), `"condition":"ENABLED"}]}],"hpcs_response":"PASS"}`)

	fetch := func() (string, error) {
		c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(lbPort) + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	seen := map[string]int{}
	for deadline := time.Now().Add(30 * time.Second); len(seen) < 2; time.Sleep(20 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "traffic not balanced over both nodes: %v", seen)
		if body, err := fetch(); err == nil {
			seen[body]++
		}
	}

	send(`{"hpcs_action":"SUSPEND"}`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := fetch(); err != nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "traffic still flows after SUSPEND")
	}
	send(`{"hpcs_action":"ENABLE"}`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := fetch(); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "traffic does not come back after ENABLE")
	}
	require.NoError(t, e.stop(30*time.Second))
}
