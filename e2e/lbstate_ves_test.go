package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/haproxytest"
)

// TestLBStateToVES runs the binary with an lbworker source over HTTP,
// reply_after: [haproxy] on a real HAProxy, and a route that sends
// sluice.lb.state events to a ves sink. UPDATE of two load balancers,
// SUSPEND, ENABLE and DELETE each take effect in HAProxy, and the VES
// collector (which validates every body against the VES 7 schema)
// receives one stateChange per load balancer and request, in request
// order: outOfService -> inService, inService -> maintenance,
// maintenance -> inService, inService -> outOfService, the device as
// sourceName and the load balancer as stateInterface.
func TestLBStateToVES(t *testing.T) {
	col, srv := newVESCollector(t)
	lb := startLBHAProxy(t, lbStateOptions(fmt.Sprintf("  - name: ves\n    type: ves\n    with: {url: %q}\n    retry: {initial: 50ms, max: 500ms, multiplier: 2}", srv.URL), "ves"))
	lbLifecycle(t, lb.ingest)

	type change struct{ Action, Interface, Old, New, From, To string }
	want := []change{
		{"UPDATE", "db", "outOfService", "inService", "", "ACTIVE"}, {"UPDATE", "web", "outOfService", "inService", "", "ACTIVE"},
		{"SUSPEND", "db", "inService", "maintenance", "ACTIVE", "SUSPENDED"}, {"SUSPEND", "web", "inService", "maintenance", "ACTIVE", "SUSPENDED"},
		{"ENABLE", "db", "maintenance", "inService", "SUSPENDED", "ACTIVE"}, {"ENABLE", "web", "maintenance", "inService", "SUSPENDED", "ACTIVE"},
		{"DELETE", "db", "inService", "outOfService", "ACTIVE", "DELETED"}, {"DELETE", "web", "inService", "outOfService", "ACTIVE", "DELETED"},
	}
	var got []change
	require.Eventually(t, func() bool { return len(col.distinct("stateChange")) >= len(want) }, 40*time.Second, 20*time.Millisecond,
		"waiting for %d VES stateChange events", len(want))
	time.Sleep(500 * time.Millisecond) // nothing more arrives
	col.mu.Lock()
	bad, events := slices.Clone(col.bad), slices.Clone(col.events)
	col.mu.Unlock()
	require.Empty(t, bad, "bodies the VES schema rejects")
	for _, e := range events {
		assert.Equal(t, "stateChange", e["commonEventHeader"].(map[string]any)["domain"], "%v", e)
	}
	for _, e := range col.distinct("stateChange") {
		h := e["commonEventHeader"].(map[string]any)
		assert.Equal(t, "lb-e2e", h["sourceName"], "the device is the source")
		assert.Equal(t, "StateChange_Sluice_LbState", h["eventName"])
		sc := e["stateChangeFields"].(map[string]any)
		assert.Equal(t, "4.0", sc["stateChangeFieldsVersion"])
		af, _ := sc["additionalFields"].(map[string]any)
		assert.Equal(t, "sluice.lb.state", af["sluice.type"])
		assert.Equal(t, sc["stateInterface"], af["load_balancer"])
		from, _ := af["from"].(string)
		to, _ := af["to"].(string)
		action, _ := af["action"].(string)
		iface, _ := sc["stateInterface"].(string)
		oldState, _ := sc["oldState"].(string)
		newState, _ := sc["newState"].(string)
		got = append(got, change{action, iface, oldState, newState, from, to})
	}
	// Within one request the order of the load balancers is not defined.
	sortRuns(got, func(c change) string { return c.Action }, func(c change) string { return c.Interface })
	assert.Equal(t, want, got)
	require.NoError(t, lb.e.stop(30*time.Second))
}

// lbLifecycle sends UPDATE of two load balancers (web: HTTP, db: TCP, on
// loopback backends), SUSPEND, ENABLE and DELETE to the lbworker's HTTP
// transport at ingest, each answered PASS after HAProxy applied it
// (reply_after), and checks that HAProxy serves web, stops, serves again
// and stops.
func lbLifecycle(t *testing.T, ingest string) {
	t.Helper()
	httpNode := haproxytest.StartHTTPBackend(t, "n1").Port
	tcpNode := haproxytest.TCPBackend(t, "t1")
	httpPort, tcpPort := freePortOf(t), freePortOf(t)
	send := func(msg string) {
		t.Helper()
		status, reply := lbPost(t, ingest, msg, 40*time.Second)
		require.Equal(t, http.StatusOK, status, "%s: %v", msg, reply)
		require.Equal(t, "PASS", reply["hpcs_response"], "%s: %v", msg, reply)
	}
	fetchHTTP := func() (string, error) { return lbGetBody("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/") }

	send(fmt.Sprintf(`{"hpcs_action":"UPDATE","loadBalancers":[`+
		`{"id":"web","protocol":"HTTP","port":%d,"nodes":[{"id":"1","address":"127.0.0.1","port":%d}]},`+
		`{"id":"db","protocol":"TCP","port":%d,"nodes":[{"id":"2","address":"127.0.0.1","port":%d}]}]}`,
		httpPort, httpNode, tcpPort, tcpNode))
	body, err := fetchHTTP()
	require.NoError(t, err, "PASS with reply_after means HAProxy serves it")
	assert.Equal(t, "n1", body)
	send(`{"hpcs_action":"SUSPEND"}`)
	_, err = fetchHTTP()
	require.Error(t, err, "suspended: HAProxy does not listen")
	send(`{"hpcs_action":"ENABLE"}`)
	body, err = fetchHTTP()
	require.NoError(t, err, "enabled: HAProxy serves again")
	assert.Equal(t, "n1", body)
	send(`{"hpcs_action":"DELETE"}`)
	_, err = fetchHTTP()
	require.Error(t, err, "deleted: HAProxy does not listen")
}
