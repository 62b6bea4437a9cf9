package e2e

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Fault lengths: short under the test command, full in `task fleet:faults`.
const (
	fleetOutageEnv    = "SLUICE_FLEET_OUTAGE"    // nats-server down (full: 30s)
	fleetPartitionEnv = "SLUICE_FLEET_PARTITION" // one agent cut off (full: 3m)
)

// The fleet fault tests run nats-server, three agents and two routers as
// separate processes (fleet_rig_test.go), post events to every agent
// throughout, inject one kind of fault, then check what fleetRig.verify
// says must hold: nothing acknowledged is lost, nothing takes effect
// twice at the idempotent sink, order per agent where the routers promise
// it, each record once and in order in the stream, every agent's journal
// verifies.

// TestFleetFaultRouterKill SIGKILLs each router in turn mid-stream, both
// sharing one durable consumer: the other router carries on (and gets the
// killed one's unacknowledged records after ack_wait), and the restarted
// router delivers again what its sink had not confirmed, which the
// idempotent sink absorbs.
func TestFleetFaultRouterKill(t *testing.T) {
	r := newFleetRig(t, false)
	stop := r.load()
	time.Sleep(2 * time.Second)
	var recovered func() time.Duration
	for _, rt := range r.routers {
		r.killRouter(rt)
		time.Sleep(2 * time.Second)
		r.startRouter(rt)
		recovered = r.recovery()
		time.Sleep(time.Second)
	}
	stop()
	r.verify("router-sigkill", 2*time.Second, recovered)
}

// TestFleetFaultServerOutage stops nats-server (SIGTERM) while the agents
// keep taking events, and starts it again on the same store: the agents
// hold the backlog in their journals and forward it on reconnect, the
// routers resume from their durable consumers.
func TestFleetFaultServerOutage(t *testing.T) {
	outage := fleetDuration(t, fleetOutageEnv, 5*time.Second)
	r := newFleetRig(t, true)
	stop := r.load()
	time.Sleep(2 * time.Second)
	r.nats.stop()
	before := len(r.agents[0].ackedIDs())
	time.Sleep(outage)
	require.Greater(t, len(r.agents[0].ackedIDs()), before, "the agent takes events while nats-server is down")
	r.nats.start()
	recovered := r.recovery()
	time.Sleep(2 * time.Second)
	stop()
	r.verify("nats-server-outage", outage, recovered)
}

// TestFleetFaultAgentPartition cuts one agent off from nats-server (a
// silent network: its TCP proxy stops moving bytes both ways, and new
// connections get no answer) while the others go on: the fleet is not
// held up by the cut-off agent, which keeps taking events and forwards
// its backlog after the heal.
func TestFleetFaultAgentPartition(t *testing.T) {
	partition := fleetDuration(t, fleetPartitionEnv, 5*time.Second)
	r := newFleetRig(t, true)
	stop := r.load()
	time.Sleep(2 * time.Second)
	cut := r.agents[2]
	cut.proxy.partition()
	before := len(cut.ackedIDs())
	time.Sleep(partition)
	require.Greater(t, len(cut.ackedIDs()), before, "the cut-off agent takes events")
	other := r.agents[0].ackedIDs()
	other = other[:max(len(other)-100, 0)] // one second of posts before now
	require.Zero(t, r.sink.missing(other), "the other agents' events are routed during the partition")
	cut.proxy.heal()
	recovered := r.recovery()
	time.Sleep(2 * time.Second)
	stop()
	r.verify("agent-partition", partition, recovered)
}

// TestFleetFaultAgentKillBeforeAck SIGKILLs an agent between publish and
// ack: its proxy lets the publishes through to nats-server and holds the
// acks back, so the stream has records the agent's cursor never moved
// past. The restarted agent sends them again with the same Nats-Msg-Id;
// the stream answers duplicate (counted by the agent) and stores each
// once.
func TestFleetFaultAgentKillBeforeAck(t *testing.T) {
	r := newFleetRig(t, true)
	stop := r.load()
	time.Sleep(2 * time.Second)
	a := r.agents[1]
	var recovered func() time.Duration
	for range 2 {
		a.proxy.holdReplies()
		time.Sleep(time.Second)
		a.e.kill()
		a.proxy.heal()
		r.startAgent(a)
		recovered = r.recovery()
		time.Sleep(time.Second)
	}
	require.Eventually(t, func() bool { return a.forwardDuplicates(t) > 0 }, 30*time.Second, 50*time.Millisecond,
		"the restarted agent resent records the stream already held")
	stop()
	r.verify("agent-sigkill-before-ack", time.Second, recovered)
}

// scrapeCounter sums the samples of every series of the Prometheus metric
// family name (with or without the _total suffix) on admin's /metrics.
func scrapeCounter(t *testing.T, admin, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		metric, _, _ := strings.Cut(line[:sp], "{")
		if metric != name && metric != name+"_total" {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		require.NoError(t, err, line)
		sum += v
	}
	return sum
}
