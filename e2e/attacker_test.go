package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/testenv"
)

// attackEnv, when set in the environment of the e2e test binary, makes
// it run attack (as another user) instead of the tests.
const attackEnv = "SLUICE_E2E_ATTACK"

// attackSpec is what the attacker goes after.
type attackSpec struct {
	Socket    string `json:"socket"`
	TCP       string `json:"tcp"`
	TokenFile string `json:"token_file"`
	Journal   string `json:"journal"`
}

// attackProbes are the admin requests the attacker tries.
var attackProbes = []struct {
	name, method, path, host string
}{
	{"records", http.MethodGet, "/journal/records?from=1", ""},
	{"export", http.MethodGet, "/journal/export", ""},
	{"stats", http.MethodGet, "/journal/stats", ""},
	{"dlq list", http.MethodGet, "/dlq", ""},
	{"purge", http.MethodPost, "/dlq/purge?all=1", ""},
	{"redrive", http.MethodPost, "/dlq/redrive", ""},
	{"replay", http.MethodPost, "/journal/replay", ""},
	{"purge rebinding", http.MethodPost, "/dlq/purge?all=1", "rebind.attacker.example"},
	{"healthz", http.MethodGet, "/healthz", ""},
}

// attack runs as the attacker: it tries to read the token and the
// journal's files, and every admin request on the socket and on TCP, and
// prints what happened as a JSON object.
func attack(specJSON string) int {
	var spec attackSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	res := map[string]string{"uid": fmt.Sprint(os.Geteuid())}
	if _, err := os.ReadFile(spec.TokenFile); err != nil {
		res["read token"] = "denied: " + err.Error()
	} else {
		res["read token"] = "read"
	}
	if _, err := os.ReadDir(spec.Journal); err != nil {
		res["list journal"] = "denied: " + err.Error()
	} else {
		res["list journal"] = "listed"
	}
	var d net.Dialer
	sock := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "unix", spec.Socket)
	}}}
	tcp := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	for _, p := range attackProbes {
		res["socket "+p.name] = probe(sock, p.method, "http://sluice-admin"+p.path, p.host)
		res["tcp "+p.name] = probe(tcp, p.method, "http://"+spec.TCP+p.path, p.host)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// probe sends one request with the old CSRF header and a replay body
// and returns "status N" or "error: ...".
func probe(c *http.Client, method, url, host string) string {
	req, err := http.NewRequest(method, url, strings.NewReader(`{"sink":"web","from":"1"}`))
	if err != nil {
		return "error: " + err.Error()
	}
	req.Header.Set("X-Sluice-Admin", "1")
	req.Header.Set("Content-Type", "application/json")
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return fmt.Sprintf("status %d", resp.StatusCode)
}

// copyExecutable copies the file at src to dir, executable by all.
func copyExecutable(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(dir, filepath.Base(src))
	require.NoError(t, os.WriteFile(dst, b, 0o755)) //nolint:gosec // the attacker (another user) runs it
	return dst
}

// asNobody runs a command as uid and gid 65534.
func asNobody(t *testing.T, env []string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=/"}, env...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "run %s %v as nobody", name, args)
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// TestLocalAttackerCannotUseAdminAPI runs the engine as root and an
// attacker as uid 65534 (nobody) on the same machine: the attacker can
// neither read the journal through the admin API (records, export) nor
// purge, redrive or replay, through the CLI or raw requests on the
// socket and the TCP listener, even with the API on TCP and the socket
// opened to another user (issue 13 "Done when"). Before, as nobody,
// curl /journal/export returned the journal and POST /dlq/purge?all=1
// purged it.
func TestLocalAttackerCannotUseAdminAPI(t *testing.T) {
	testenv.RequireRoot(t, "runs the engine as root and the attacker as uid 65534")
	t.Parallel()
	tests := []struct {
		name  string
		admin string
		// want is the TCP answer to an API request.
		want string
	}{
		{name: "socket only", admin: "", want: "status 404"},
		{name: "api on tcp and socket shared with uid 4242", admin: "\n  api: tcp\n  allow_uids: [4242]", want: "status 401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runAttack(t, tt.admin, tt.want)
		})
	}
}

func runAttack(t *testing.T, adminExtra, wantTCP string) {
	// A directory every user may traverse, as /var/lib is (t.TempDir's
	// parent is private).
	dir, err := os.MkdirTemp("", "sluice-attack-") //nolint:usetesting // see above
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	jdir := filepath.Join(dir, "journal")
	require.NoError(t, os.Mkdir(jdir, 0o755))
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	sluiceCopy := copyExecutable(t, sluiceBin, bin)
	self, err := os.Executable()
	require.NoError(t, err)
	attacker := copyExecutable(t, self, bin)

	var posts atomic.Int64
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "refused", http.StatusBadRequest)
	}))
	t.Cleanup(peer.Close)
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `
journal: {dir: %[1]s}
admin:
  listen: "%[3]s"%[5]s
log: {level: info}
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
`, jdir, ingest, admin, peer.URL, adminExtra), 0o644)) //nolint:gosec // the attacker may read the config: it holds no secret
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 3 {
		require.Equal(t, http.StatusAccepted, postEvent(client, "http://"+ingest+"/events", fmt.Sprintf("secret-%d", i)))
	}
	require.Eventually(t, func() bool { return len(dlqList(t, "-c", cfg)) == 3 }, 30*time.Second, 100*time.Millisecond)
	sent := posts.Load()

	// The CLI, as nobody.
	for _, args := range [][]string{
		{"journal", "tail", "-c", cfg},
		{"journal", "export", "-c", cfg},
		{"journal", "stats", "-c", cfg},
		{"journal", "dlq", "list", "-c", cfg},
		{"journal", "dlq", "purge", "--all", "--yes", "-c", cfg},
		{"journal", "dlq", "redrive", "--sink", "web", "-c", cfg},
		{"journal", "replay", "--sink", "web", "--from", "1", "-c", cfg},
		{"journal", "tail", "-c", cfg, "--admin", admin},
		{"journal", "dlq", "purge", "--all", "--yes", "-c", cfg, "--admin", admin},
	} {
		out, errOut, code := asNobody(t, nil, sluiceCopy, args...)
		assert.NotZero(t, code, "%v as nobody succeeded:\n%s", args, out)
		assert.NotContains(t, out, "secret-", "%v as nobody printed events", args)
		t.Logf("nobody: sluice %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errOut))
	}

	// Raw requests, as nobody.
	spec, err := json.Marshal(attackSpec{Socket: filepath.Join(jdir, "admin.sock"), TCP: admin, TokenFile: filepath.Join(jdir, "admin.token"), Journal: jdir})
	require.NoError(t, err)
	out, errOut, code := asNobody(t, []string{attackEnv + "=" + string(spec)}, attacker)
	require.Zero(t, code, errOut)
	var res map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	t.Logf("attacker: %v", res)
	assert.Equal(t, "65534", res["uid"])
	assert.True(t, strings.HasPrefix(res["read token"], "denied") || strings.Contains(res["read token"], "no such file"), res["read token"])
	for _, p := range attackProbes {
		s, tcp := res["socket "+p.name], res["tcp "+p.name]
		if adminExtra == "" {
			assert.Contains(t, s, "permission denied", "socket %s: the socket is 0600", p.name)
		} else {
			assert.Equal(t, "status 403", s, "socket %s: the socket is 0666 but the peer check refuses uid 65534", p.name)
		}
		switch {
		case p.name == "healthz":
			assert.Equal(t, "status 200", tcp)
		case p.host != "":
			assert.Equal(t, "status 403", tcp, "tcp %s: a foreign Host is refused", p.name)
		default:
			assert.Equal(t, wantTCP, tcp, "tcp %s", p.name)
		}
	}
	if adminExtra != "" {
		assert.Contains(t, e.stderr.String(), "uid=65534", "the refusal names the peer")
	}

	// Nothing was read, purged or replayed: root's CLI still sees every
	// dead letter and the peer got nothing more.
	assert.Len(t, dlqList(t, "-c", cfg), 3)
	assert.Equal(t, sent, posts.Load(), "no replay or redrive reached the peer")
	stdout, errOut, code := sluice(t, nil, "journal", "tail", "-c", cfg, "-n", "1")
	require.Zero(t, code, errOut)
	assert.Contains(t, stdout, "secret-2", "root reads the journal through the socket")
	assert.NotContains(t, e.stderr.String(), "dead letters changed through the admin listener")
}
