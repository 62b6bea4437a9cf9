package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// leafSite is the edge layout of docs/deploy.md (Leaf nodes for sites):
// a hub nats-server with JetStream, and a site's leaf nats-server
// without JetStream that dials out to the hub's leafnode port through
// link, a tcpProxy the test controls (the site's WAN link). Agents at the
// site connect to the leaf; their publishes and JetStream API calls
// travel over the leaf connection to the hub's stream.
type leafSite struct {
	hub, leaf *natsProc
	link      *tcpProxy
}

// hubDomain is the hub's JetStream domain. A leaf node passes JetStream
// API requests to the hub only under it ($JS.hub.API.>; plain $JS.API.>
// is denied across a leaf connection since nats-server 2.7), so the
// site's agents set journal.nats.domain.
const hubDomain = "hub"

// startLeafSite starts the hub and the leaf (natsBinary's, as separate
// processes) and waits until the hub's JetStream answers through the
// leaf.
func startLeafSite(t *testing.T, base string) *leafSite {
	t.Helper()
	bin := natsBinary(t)
	conf := func(name string, c map[string]any) string {
		data, err := json.MarshalIndent(c, "", "  ")
		require.NoError(t, err)
		return writeFile(t, base, name, string(data)) // nats-server reads JSON as its config format
	}
	hubAddr, hubLeafAddr, leafAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	listen := func(addr string) map[string]any {
		host, port, _ := strings.Cut(addr, ":")
		n, err := strconv.Atoi(port)
		require.NoError(t, err)
		return map[string]any{"host": host, "port": n}
	}
	hub := listen(hubAddr)
	hub["jetstream"] = map[string]any{"store_dir": filepath.Join(base, "hub-js"), "domain": hubDomain}
	hub["leafnodes"] = listen(hubLeafAddr)
	s := &leafSite{}
	s.hub = startNATSArgs(t, bin, hubAddr, "-c", conf("hub.json", hub))
	s.link = startProxy(t, hubLeafAddr)
	leaf := listen(leafAddr)
	leaf["leafnodes"] = map[string]any{"remotes": []map[string]any{{"url": "nats-leaf://" + s.link.addr()}}}
	s.leaf = startNATSArgs(t, bin, leafAddr, "-c", conf("leaf.json", leaf))

	nc, err := nats.Connect(s.leaf.url())
	require.NoError(t, err)
	defer nc.Close()
	require.Eventually(t, func() bool {
		_, err := nc.Request("$JS."+hubDomain+".API.INFO", nil, time.Second)
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "the hub's JetStream answers through the leaf, in its domain")
	return s
}

// newLeafRig is the fault rig (fleetRig, partitioned routers) on a leaf
// site: agent-1 and agent-2 at the site (through the leaf, prefix
// sluice.fleet.site1), agent-3 connected to the hub directly (site2), and
// router-1 (site1) and router-2 (site2) on the hub, pinned (order per
// agent checked; shared and not checked before nats-server 2.11).
func newLeafRig(t *testing.T) (*fleetRig, *leafSite) {
	t.Helper()
	base := t.TempDir()
	keepOnFailure(t, base)
	site := startLeafSite(t, base)
	r := &fleetRig{t: t, base: base, nats: site.hub, sink: newIdemSink(t), partitioned: true, interval: 10 * time.Millisecond}
	ordering, ordered := orderedConsumer(t)
	r.partitioned = ordered
	for i := range 2 {
		c := fleetConsumer{name: fmt.Sprintf("site%d", i+1), ordering: ordering}
		c.filter = "sluice.fleet." + c.name + ".>"
		r.routers = append(r.routers, newFleetRouter(t, base, fmt.Sprintf("router-%d", i+1), site.hub.url(), c, r.sink.url()))
	}
	for i := range 3 {
		server, prefix := site.leaf.addr, "sluice.fleet.site1"
		if i == 2 {
			server, prefix = site.hub.addr, "sluice.fleet.site2"
		}
		a := newFleetAgent(t, base, fmt.Sprintf("agent-%d", i+1), server, prefix)
		if i < 2 {
			editConfig(t, a.cfg, "    agent_id:", "    domain: "+hubDomain+"\n    agent_id:")
		}
		r.agents = append(r.agents, a)
	}
	for _, rt := range r.routers {
		r.startRouter(rt) // they create the stream on the hub
	}
	for _, a := range r.agents {
		r.startAgent(a)
	}
	return r, site
}

// TestFleetFaultLeafPartition cuts a site's leaf node off from the hub (a
// silent WAN link: the link's proxy stops moving bytes, and the leaf's
// reconnects get no answer) while every agent keeps taking events: the
// site's agents acknowledge events throughout and none of them reaches
// the routers during the cut, the agent outside the site is routed as
// usual, and after the heal the site's backlog is forwarded through the
// leaf. Then fleetRig.verify: every acknowledged event at the sink once,
// in each agent's order, each record once and in order in the stream, the
// journals verify.
func TestFleetFaultLeafPartition(t *testing.T) {
	partition := fleetDuration(t, fleetPartitionEnv, 5*time.Second)
	r, site := newLeafRig(t)
	stop := r.load()
	time.Sleep(2 * time.Second)
	site.link.partition()
	// An event committed and forwarded just before the cut can have its
	// 202 reach the load client after it: count as "during the cut" only
	// what was acknowledged a settle time after it.
	const settle = time.Second
	time.Sleep(settle)
	before := []int{len(r.agents[0].ackedIDs()), len(r.agents[1].ackedIDs())}
	time.Sleep(max(partition-settle, settle))
	for i, a := range r.agents[:2] {
		during := a.ackedIDs()[before[i]:]
		require.NotEmpty(t, during, "%s (at the site) takes events while the site is cut off", a.id)
		require.Equal(t, len(during), r.sink.missing(during), "%s's events of the cut stay at the site until the heal", a.id)
	}
	other := r.agents[2].ackedIDs()
	other = other[:max(len(other)-300, 0)] // three seconds of posts before now
	require.Zero(t, r.sink.missing(other), "the agent outside the site is routed during the cut")
	site.link.heal()
	recovered := r.recovery()
	time.Sleep(2 * time.Second)
	stop()
	r.verify("leaf-partition", partition, recovered)
}
