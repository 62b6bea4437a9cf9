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
	lb := startLBHAProxy(t, lbOptions{
		gearman: "{servers: [], function: lb-e2e}",
		source:  "      reply_after: [haproxy]\n      reply_timeout: 25s",
		sink:    "    retry: {initial: 50ms, max: 200ms, multiplier: 2}",
		sinks:   fmt.Sprintf("  - name: host\n    type: kvp\n    with: {path: %q}", pool),
		routes:  "  - name: states\n    from: [lb]\n    match: {types: [sluice.lb.state]}\n    to: [host]",
	})
	lbLifecycle(t, lb.ingest)

	type change struct{ Action, LB, From, To string }
	want := []change{
		{"UPDATE", "db", "", "ACTIVE"}, {"UPDATE", "web", "", "ACTIVE"},
		{"SUSPEND", "db", "ACTIVE", "SUSPENDED"}, {"SUSPEND", "web", "ACTIVE", "SUSPENDED"},
		{"ENABLE", "db", "SUSPENDED", "ACTIVE"}, {"ENABLE", "web", "SUSPENDED", "ACTIVE"},
		{"DELETE", "db", "ACTIVE", "DELETED"}, {"DELETE", "web", "ACTIVE", "DELETED"},
	}
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
	var got []change
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
		got = append(got, change{data.Action, data.LoadBalancer, data.From, data.To})
	}
	// Within one request the order of the load balancers is not defined.
	sortRuns(got, func(c change) string { return c.Action }, func(c change) string { return c.LB })
	assert.Equal(t, want, got)
}
