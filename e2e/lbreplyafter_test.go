package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/haproxytest"
)

// TestLBWorkerReplyAfterHAProxy runs the binary with reply_after:
// [haproxy] against a real HAProxy: PASS to UPDATE means HAProxy already
// serves the new load balancer (no waiting after the reply), STATS is
// answered by the sink from the stats socket (a node whose health check
// fails is DOWN), and an UPDATE HAProxy cannot bind is FAIL with HAProxy's
// own reason while the previous configuration keeps serving.
func TestLBWorkerReplyAfterHAProxy(t *testing.T) {
	lb := startLBHAProxy(t, lbOptions{source: "      reply_after: [haproxy]\n      reply_timeout: 15s", sink: "    retry: {initial: 50ms, max: 200ms, multiplier: 2}"})
	ingest, admin, e := lb.ingest, lb.admin, lb.e
	upPort := haproxytest.StartHTTPBackend(t, "up").Port
	down := haproxytest.StartHTTPBackend(t, "down")
	downPort := down.Port
	lbPort, err := strconv.Atoi(freeAddr(t)[len("127.0.0.1:"):])
	require.NoError(t, err)
	send := func(msg string) (int, map[string]any) { return lbPost(t, ingest, msg, 30*time.Second) }
	update := fmt.Sprintf(`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","port":%d,"monitor":{"type":"CONNECT","delay":"1","timeout":"1","attempts":"1"},"nodes":[{"id":"node-a","address":"127.0.0.1","port":%d},{"id":"node-b","address":"127.0.0.1","port":%d}]}]}`, lbPort, upPort, downPort)
	status, reply := send(update)
	require.Equal(t, http.StatusOK, status, "%v", reply)
	require.Equal(t, "PASS", reply["hpcs_response"])
	// PASS came after the reload: the frontend listens now.
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(lbPort), 2*time.Second)
	require.NoError(t, err, "PASS must mean HAProxy serves the load balancer")
	_ = c.Close()

	down.Close() // node-b fails its health check from now on
	var nodes []any
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		status, reply = send(`{"hpcs_action":"STATS"}`)
		require.Equal(t, http.StatusOK, status, "%v", reply)
		nodes, _ = reply["nodes"].([]any)
		if fmt.Sprint(nodes) == "[map[id:node-a status:UP] map[id:node-b status:DOWN]]" {
			break
		}
		require.True(t, time.Now().Before(deadline), "STATS never showed node-b DOWN: %v", reply)
	}

	// An UPDATE on a port already taken (the engine's admin port):
	// haproxy -c accepts it, the reload fails, the old file is restored.
	_, adminPort, _ := net.SplitHostPort(admin)
	bad := fmt.Sprintf(`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","port":%s,"nodes":[{"id":"x","address":"127.0.0.1","port":%d}]}]}`, adminPort, upPort)
	status, reply = send(bad)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, "FAIL", reply["hpcs_response"])
	assert.Contains(t, reply["hpcs_error"], "sink haproxy: ")
	body, err := lbGetBody("http://127.0.0.1:" + strconv.Itoa(lbPort) + "/")
	require.NoError(t, err, "the previous configuration keeps serving")
	assert.Equal(t, "up", body)

	status, reply = send(`{"hpcs_action":"METRICS"}`)
	require.Equal(t, http.StatusOK, status, "%v", reply)
	assert.NotEmpty(t, reply["utc_start"])
	assert.Contains(t, fmt.Sprint(reply["loadBalancers"]), "protocol:http")
	require.NoError(t, e.stop(30*time.Second))
}

// lbPost posts msg to the lbworker's HTTP transport at ingest with the
// e2e token and returns the status and the decoded reply.
func lbPost(t *testing.T, ingest, msg string, timeout time.Duration) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+ingest+"/lbaas", strings.NewReader(msg))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer e2e-token")
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var reply map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reply))
	return resp.StatusCode, reply
}

func lbGetBody(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
