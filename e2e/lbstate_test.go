package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/haproxytest"
)

// TestLBWorkerStateEventsThroughGearman runs the binary with an lbworker
// source on a real gearmand (jobs sent with Debian's gearman CLI, with
// unique ids), reply_after: [haproxy] on a real HAProxy, and a route that
// sends sluice.lb.state events to a file sink. Each request's effect on
// traffic through HAProxy is checked, and the state events are exactly the
// transitions the requests caused: UPDATE makes both load balancers
// ACTIVE, SUSPEND SUSPENDED, ENABLE ACTIVE again, an UPDATE HAProxy cannot
// load ERROR with HAProxy's reason (the previous configuration keeps
// serving), DELETE DELETED; a resubmitted job changes nothing.
func TestLBWorkerStateEventsThroughGearman(t *testing.T) {
	g := startE2EGearmand(t)
	dir := t.TempDir()
	states := filepath.Join(dir, "states.jsonl")
	lb := startLBHAProxy(t, lbOptions{
		gearman: fmt.Sprintf("{servers: [%q], function: lb-e2e, workers: 2}", g),
		source:  "      reply_after: [haproxy]\n      reply_timeout: 25s",
		sink:    "    retry: {initial: 50ms, max: 200ms, multiplier: 2}",
		sinks:   fmt.Sprintf("  - name: states\n    type: file\n    with: {path: %s}", states),
		routes:  "  - name: states\n    from: [lb]\n    match: {types: [sluice.lb.state]}\n    to: [states]",
	})
	httpNode := haproxytest.StartHTTPBackend(t, "n1").Port
	tcpNode := haproxytest.TCPBackend(t, "t1")
	httpPort, tcpPort := freePortOf(t), freePortOf(t)
	submit := func(unique, msg string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		host, port, _ := net.SplitHostPort(g)
		cmd := exec.CommandContext(ctx, "gearman", "-h", host, "-p", port, "-f", "lb-e2e", "-u", unique)
		cmd.Stdin = strings.NewReader(msg)
		out, err := cmd.Output()
		require.NoError(t, err, "gearman CLI: %s", out)
		var reply map[string]any
		require.NoError(t, json.Unmarshal(out, &reply), "%s", out)
		return reply
	}
	fetchHTTP := func() (string, error) { return lbGetBody("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/") }
	fetchTCP := func() (string, error) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(tcpPort), 2*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		return bufio.NewReader(c).ReadString('\n')
	}
	lbs := func(httpAt int) string {
		return fmt.Sprintf(`[{"id":"web","protocol":"HTTP","port":%d,"nodes":[{"id":"1","address":"127.0.0.1","port":%d}]},`+
			`{"id":"db","protocol":"TCP","port":%d,"nodes":[{"id":"2","address":"127.0.0.1","port":%d}]}]`, httpAt, httpNode, tcpPort, tcpNode)
	}

	reply := submit("u-update", `{"hpcs_action":"UPDATE","loadBalancers":`+lbs(httpPort)+`}`)
	require.Equal(t, "PASS", reply["hpcs_response"], "%v", reply)
	body, err := fetchHTTP()
	require.NoError(t, err, "PASS with reply_after means HAProxy serves it")
	assert.Equal(t, "n1", body)
	line, err := fetchTCP()
	require.NoError(t, err)
	assert.Equal(t, "t1\n", line)

	require.Equal(t, "PASS", submit("u-suspend", `{"hpcs_action":"SUSPEND"}`)["hpcs_response"])
	_, err = fetchHTTP()
	require.Error(t, err, "suspended: HAProxy does not listen")
	_, err = fetchTCP()
	require.Error(t, err)

	require.Equal(t, "PASS", submit("u-enable", `{"hpcs_action":"ENABLE"}`)["hpcs_response"])
	body, err = fetchHTTP()
	require.NoError(t, err)
	assert.Equal(t, "n1", body)
	require.Equal(t, "PASS", submit("u-suspend", `{"hpcs_action":"SUSPEND"}`)["hpcs_response"], "a resubmitted job gets its first reply")
	_, err = fetchHTTP()
	require.NoError(t, err, "and is not applied again")

	// The HTTP load balancer on a port that is taken: haproxy -c accepts
	// it, the reload fails, the previous file is restored.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	reply = submit("u-bad", `{"hpcs_action":"UPDATE","loadBalancers":`+lbs(busy.Addr().(*net.TCPAddr).Port)+`}`)
	require.Equal(t, "FAIL", reply["hpcs_response"], "%v", reply)
	assert.Contains(t, reply["hpcs_error"], "sink haproxy: haproxy reload failed")
	body, err = fetchHTTP()
	require.NoError(t, err, "the previous configuration keeps serving")
	assert.Equal(t, "n1", body)

	require.Equal(t, "PASS", submit("u-delete", `{"hpcs_action":"DELETE"}`)["hpcs_response"])
	_, err = fetchHTTP()
	require.Error(t, err, "deleted: HAProxy does not listen")

	type change struct{ Request, LB, From, To, Action string }
	want := []change{
		{"u-update", "db", "", "ACTIVE", "UPDATE"}, {"u-update", "web", "", "ACTIVE", "UPDATE"},
		{"u-suspend", "db", "ACTIVE", "SUSPENDED", "SUSPEND"}, {"u-suspend", "web", "ACTIVE", "SUSPENDED", "SUSPEND"},
		{"u-enable", "db", "SUSPENDED", "ACTIVE", "ENABLE"}, {"u-enable", "web", "SUSPENDED", "ACTIVE", "ENABLE"},
		{"u-bad", "db", "ACTIVE", "ERROR", "UPDATE"}, {"u-bad", "web", "ACTIVE", "ERROR", "UPDATE"},
		{"u-delete", "db", "ERROR", "DELETED", "DELETE"}, {"u-delete", "web", "ERROR", "DELETED", "DELETE"},
	}
	var got []change
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got = got[:0]
		for _, l := range readLines(t, states) {
			var ev struct {
				Type, Subject string
				Data          struct {
					LoadBalancer string `json:"load_balancer"`
					From, To     string
					Action       string
					RequestID    string `json:"request_id"`
					Reason       string
					Protocol     string
					Port         int
				}
			}
			require.NoError(t, json.Unmarshal([]byte(l), &ev), "%s", l)
			require.Equal(t, "sluice.lb.state", ev.Type)
			assert.Equal(t, "lb-e2e", ev.Subject)
			if ev.Data.To == "ERROR" {
				assert.Contains(t, ev.Data.Reason, "haproxy reload failed", "ERROR carries the sink's reason")
			}
			got = append(got, change{ev.Data.RequestID, ev.Data.LoadBalancer, ev.Data.From, ev.Data.To, ev.Data.Action})
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	// Within one request the order of the load balancers is not defined.
	sortRuns(got, func(c change) string { return c.Request }, func(c change) string { return c.LB })
	assert.Equal(t, want, got)
	require.NoError(t, lb.e.stop(30*time.Second))
}

// startE2EGearmand starts Debian's gearmand on a free loopback port and
// returns its address.
func startE2EGearmand(t *testing.T) string {
	t.Helper()
	for _, bin := range []string{"gearmand", "gearman"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is required by this test and was not found (%v): apt-get install -y --no-install-recommends gearman-job-server gearman-tools", bin, err)
		}
	}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("gearmand", "--listen=127.0.0.1", "--port="+port, "--log-file=none", "--verbose=ERROR")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitListening(t, addr)
	return addr
}

// freePortOf is freeAddr's port.
func freePortOf(t *testing.T) int {
	t.Helper()
	_, p, _ := net.SplitHostPort(freeAddr(t))
	port, err := strconv.Atoi(p)
	require.NoError(t, err)
	return port
}

// sortRuns sorts each run of consecutive elements of s with the same run
// key by their sort key, keeping the runs in place.
func sortRuns[T any](s []T, run, key func(T) string) {
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && run(s[j]) == run(s[i]) {
			j++
		}
		slices.SortFunc(s[i:j], func(a, b T) int { return strings.Compare(key(a), key(b)) })
		i = j
	}
}
