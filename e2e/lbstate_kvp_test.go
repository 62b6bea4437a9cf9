package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLBStateToKVP runs the binary with an lbworker source over HTTP,
// reply_after: [haproxy] on a real HAProxy, and a route that sends
// sluice.lb.state events to a kvp sink. After UPDATE of two load
// balancers, SUSPEND, ENABLE and DELETE, the pool file, read with
// cloud-init's own KVP reader, holds one record per load balancer and
// request, in request order: type sluice.lb.state, name "lb/<device>" and
// the state change (from, to, action) as the message.
func TestLBStateToKVP(t *testing.T) {
	pool := filepath.Join(t.TempDir(), ".kvp_pool_1")
	lb := startLBHAProxy(t, lbStateOptions(fmt.Sprintf("  - name: host\n    type: kvp\n    with: {path: %q}", pool), "host"))
	lbLifecycle(t, lb.ingest)

	want := lbLifecycleChanges
	var p kvpPool
	deadline := time.Now().Add(40 * time.Second)
	for {
		p = kvpDecode(t, pool)
		if len(p.Events) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	require.NoError(t, lb.e.stop(30*time.Second))
	p = kvpDecode(t, pool) // nothing more arrived
	assert.Zero(t, p.Partial, "no partial records")
	var got []lbChange
	for _, ev := range p.Events {
		assert.Equal(t, "sluice.lb.state", ev.Type, "%+v", ev)
		assert.Equal(t, "lb/lb-e2e", ev.Name, "the source and the device")
		assert.Nil(t, ev.Result)
		assert.Zero(t, ev.Slices, "a state change fits one record, unsliced")
		var data struct {
			LoadBalancer string `json:"load_balancer"`
			From         string `json:"from"`
			To           string `json:"to"`
			Action       string `json:"action"`
			RequestID    string `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.Msg), &data), "msg is the event's JSON data: %q", ev.Msg)
		assert.NotEmpty(t, data.RequestID)
		got = append(got, lbChange{data.Action, data.LoadBalancer, data.From, data.To})
	}
	// Within one request the order of the load balancers is not defined.
	sortRuns(got, func(c lbChange) string { return c.Action }, func(c lbChange) string { return c.LB })
	assert.Equal(t, want, got)
}

// lbChange is a load balancer's state change as a sink shows it.
type lbChange struct{ Action, LB, From, To string }

// lbLifecycleChanges are the state changes of lbLifecycle, in request
// order (within a request, by load balancer).
var lbLifecycleChanges = []lbChange{
	{"UPDATE", "db", "", "ACTIVE"}, {"UPDATE", "web", "", "ACTIVE"},
	{"SUSPEND", "db", "ACTIVE", "SUSPENDED"}, {"SUSPEND", "web", "ACTIVE", "SUSPENDED"},
	{"ENABLE", "db", "SUSPENDED", "ACTIVE"}, {"ENABLE", "web", "SUSPENDED", "ACTIVE"},
	{"DELETE", "db", "ACTIVE", "DELETED"}, {"DELETE", "web", "ACTIVE", "DELETED"},
}

// lbStateOptions runs the lbworker over HTTP only, reply_after: [haproxy],
// with sinks (YAML list entries) and a route of sluice.lb.state events to
// the sink named to.
func lbStateOptions(sinks, to string) lbOptions {
	return lbOptions{
		gearman: "{servers: [], function: lb-e2e}",
		source:  "      reply_after: [haproxy]\n      reply_timeout: 25s",
		sink:    "    retry: {initial: 50ms, max: 200ms, multiplier: 2}",
		sinks:   sinks,
		routes:  "  - name: states\n    from: [lb]\n    match: {types: [sluice.lb.state]}\n    to: [" + to + "]",
	}
}
