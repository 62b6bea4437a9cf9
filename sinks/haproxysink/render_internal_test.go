package haproxysink

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/libra"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func decodeLBs(t *testing.T, msg string) []libra.LoadBalancer {
	t.Helper()
	d, ref := libra.Decode([]byte(msg))
	require.Nil(t, ref, "refused: %v", ref)
	return d.Request.LoadBalancers
}

// The golden cases: PROTOCOLS-M2.md §6.2's example (HTTP + TCP), galera
// with TCP beside it (Libra's name clash), IPv6 and the defaults.
var goldenCases = []struct{ name, msg string }{
	{"http_tcp", `{"hpcs_action":"UPDATE","loadBalancers":[
		{"protocol":"HTTP","port":18080,"algorithm":"LEAST_CONNECTIONS",
		 "nodes":[{"id":"101","address":"127.0.0.1","port":"19001","weight":"2"},{"id":"102","address":"127.0.0.1","port":"19002","backup":"TRUE"}],
		 "monitor":{"type":"HTTP","delay":"5","timeout":"3","attempts":"2","path":"healthz"},
		 "options":{"client_timeout":20000,"server_timeout":40000,"connect_timeout":5000,"connect_retries":2}},
		{"protocol":"TCP","port":18443,"nodes":[{"id":"201","address":"127.0.0.1","port":"19003"}]}]}`},
	{"galera_tcp", `{"hpcs_action":"UPDATE","loadBalancers":[
		{"protocol":"GALERA","port":3306,"nodes":[{"id":"db-1","address":"10.0.0.1","port":3306},{"id":"db-2","address":"10.0.0.2","port":3306,"backup":"true"},{"id":"db-3","address":"::1","port":3306,"backup":"true"}],
		 "monitor":{"type":"CONNECT","delay":"10","timeout":"5","attempts":"3"}},
		{"protocol":"tcp","port":443,"nodes":[{"id":"b0e2c9d4-5f7a-4c1e-9d3b-2a8f6e1c0b77","address":"web.example","port":8443}]}]}`},
	{"empty", `{"hpcs_action":"UPDATE","loadBalancers":[]}`},
}

func goldenParams() renderParams {
	return renderParams{statsSocket: "/run/haproxy/admin.sock", bind: "0.0.0.0", user: "haproxy", group: "haproxy", log: "/dev/log local0", maxConn: 4096}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := render(goldenParams(), decodeLBs(t, tc.msg))
			path := filepath.Join("testdata", tc.name+".cfg.golden")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), got)
		})
	}
}

// TestGoldenLoadsInHAProxy: every golden file passes the real HAProxy
// 2.6's check without a warning (Libra's own output did not load).
func TestGoldenLoadsInHAProxy(t *testing.T) {
	t.Parallel()
	bin := haproxyBinary(t)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := strings.ReplaceAll(render(goldenParams(), decodeLBs(t, tc.msg)), "web.example", "localhost")
			path := filepath.Join(t.TempDir(), "haproxy.cfg")
			require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
			out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.NotContains(t, string(out), "WARNING")
			assert.Contains(t, string(out), "Configuration file is valid")
		})
	}
}

func haproxyBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is required by this test and was not found (%v): apt-get install -y --no-install-recommends haproxy", err)
	}
	return bin
}

func TestParseShowProc(t *testing.T) {
	t.Parallel()
	out := "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
		"2078            master          4 [failed: 1]   0d00h00m18s     2.6.12-1+deb12u4\n" +
		"# workers\n2577            worker          1               0d00h00m11s     2.6.12-1+deb12u4\n" +
		"# old workers\n2467            worker          2               0d00h00m20s     2.6.12-1+deb12u4\n# programs\n\n"
	st, err := parseShowProc(out)
	require.NoError(t, err)
	assert.Equal(t, procState{reloads: 4, failed: 1, workers: []int{2577}}, st)
	_, err = parseShowProc("Unknown command\n")
	require.Error(t, err)
}

func TestHostPort(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "[::1]:80", hostPort("::1", 80))
	assert.Equal(t, "10.0.0.1:80", hostPort("10.0.0.1", 80))
	assert.Equal(t, "db.example:3306", hostPort("db.example", 3306))
}
