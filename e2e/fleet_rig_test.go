package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
)

// fleetReportEnv names a file to which each fleet fault test appends its
// figures as one JSON line (task fleet:faults sets it).
const fleetReportEnv = "SLUICE_FLEET_REPORT"

// fleetDuration reads a duration from env, def when it is unset.
func fleetDuration(t *testing.T, env string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, env)
	return d
}

// fleetAgent is one VM agent: a sluice process with journal backend nats
// and an http source, reaching nats-server through its own tcpProxy.
type fleetAgent struct {
	id, dir, ingest, admin, cfg string
	proxy                       *tcpProxy
	e                           *engine

	mu    sync.Mutex
	acked []string // event ids the agent answered 202 for, in that order
	next  int
}

// fleetRouter is one router: a sluice process with a nats source and an
// http sink to the rig's idemSink.
type fleetRouter struct {
	name, dir, admin, cfg string
	e                     *engine
}

// fleetRig is nats-server, three agents and two routers, all separate
// processes. partitioned says how the routers consume: false, both share
// one durable consumer on every agent (ordering: shared; work split,
// failover, no order across routers); true, router-1 owns site1 (agent-1,
// agent-2) and router-2 owns site2 (agent-3), each with its own consumer
// in ordering: pinned, which is what keeps each agent's order at the sink
// (sources/natssource, Order). With ordering: shared a batch the router
// could not append is handed back (nacked) and comes back after later
// records, even with one router on the consumer: a nats-server stopped
// while a batch is between delivery and ack does exactly that.
type fleetRig struct {
	t           *testing.T
	base        string
	nats        *natsProc
	sink        *idemSink
	agents      []*fleetAgent
	routers     []*fleetRouter
	partitioned bool
	interval    time.Duration // between two posts of one agent
	killed      bool          // a router was SIGKILLed (killRouter): it may have left a request cut short
}

// killRouter SIGKILLs rt.
func (r *fleetRig) killRouter(rt *fleetRouter) {
	r.killed = true
	rt.e.kill()
}

func newFleetRig(t *testing.T, partitioned bool) *fleetRig {
	t.Helper()
	base := t.TempDir()
	keepOnFailure(t, base)
	r := &fleetRig{t: t, base: base, sink: newIdemSink(t), partitioned: partitioned, interval: 10 * time.Millisecond}
	r.nats = startNATS(t, base, freeAddr(t))
	for i := range 2 {
		c := sharedConsumer
		if partitioned {
			c = fleetConsumer{name: fmt.Sprintf("site%d", i+1), filter: fmt.Sprintf("sluice.fleet.site%d.>", i+1), ordering: "pinned"}
			c.ordering, r.partitioned = orderedConsumer(t) // shared, order unchecked, before nats-server 2.11
		}
		r.routers = append(r.routers, newFleetRouter(t, base, fmt.Sprintf("router-%d", i+1), r.nats.url(), c, r.sink.url()))
	}
	for i := range 3 {
		prefix := "sluice.fleet"
		if partitioned {
			prefix = "sluice.fleet.site1"
			if i == 2 {
				prefix = "sluice.fleet.site2"
			}
		}
		r.agents = append(r.agents, newFleetAgent(t, base, fmt.Sprintf("agent-%d", i+1), r.nats.addr, prefix))
	}
	// Routers first: they create the stream on sluice.fleet.>, which
	// covers every site's prefix.
	for _, rt := range r.routers {
		r.startRouter(rt)
	}
	for _, a := range r.agents {
		r.startAgent(a)
	}
	return r
}

// fleetConsumer is the durable consumer a router's nats source reads:
// its name, filter subject (empty for every agent) and ordering (shared
// or pinned).
type fleetConsumer struct{ name, filter, ordering string }

// sharedConsumer is the consumer every router shares, on every agent.
var sharedConsumer = fleetConsumer{name: "sluice-routers", ordering: "shared"}

// newFleetRouter writes the configuration of router name under base: a
// nats source on consumer c and an http sink "central" in batch mode to
// sinkURL.
func newFleetRouter(t testing.TB, base, name, natsURL string, c fleetConsumer, sinkURL string) *fleetRouter {
	t.Helper()
	rt := &fleetRouter{name: name, admin: freeAddr(t), dir: filepath.Join(base, name)}
	require.NoError(t, os.MkdirAll(rt.dir, 0o700))
	rt.cfg = writeFile(t, rt.dir, "router.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal, cursor_flush_interval: 50ms}
admin: {listen: %[2]s}
log: {level: warn}
sources:
  - name: fleet
    type: nats
    with:
      conn: {url: "%[3]s", reconnect_wait: 100ms}
      consumer: %[4]s
      filter_subject: "%[5]s"
      ordering: %[7]s
      pinned_ttl: 3s
      ack_wait: 3s
      retry: {initial: 50ms, max: 500ms}
sinks:
  - name: central
    type: http
    with: {url: "%[6]s", mode: batch, max_events: 500, max_bytes: 4MiB}
    batch: {max_events: 1000, max_bytes: 4MiB}
routes:
  - {name: all, from: [fleet], to: [central]}
`, rt.dir, rt.admin, natsURL, c.name, c.filter, sinkURL, c.ordering))
	return rt
}

// newFleetAgent writes the configuration of agent id under base: journal
// backend nats through a new tcpProxy to natsAddr, publishing under
// prefix, an http source and a local file sink.
func newFleetAgent(t testing.TB, base, id, natsAddr, prefix string) *fleetAgent {
	t.Helper()
	a := &fleetAgent{id: id, ingest: freeAddr(t), admin: freeAddr(t), dir: filepath.Join(base, id)}
	require.NoError(t, os.MkdirAll(a.dir, 0o700))
	a.proxy = startProxy(t, natsAddr)
	a.cfg = writeFile(t, a.dir, "agent.yaml", fmt.Sprintf(`
journal:
  dir: %[1]s/journal
  backend: nats
  cursor_flush_interval: 50ms
  nats:
    conn: {url: "nats://%[4]s", reconnect_wait: 100ms, connect_timeout: 2s}
    agent_id: %[5]s
    stream: {subject_prefix: %[6]s}
    ack_timeout: 5s
    retry: {initial: 50ms, max: 1s}
admin: {listen: %[3]s}
log: {level: warn}
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", path: /events, max_body_bytes: 8MiB, max_batch_events: 10000}
sinks:
  - name: local
    type: file
    with: {path: %[1]s/local.jsonl}
routes:
  - {name: all, from: [ingest], to: [local]}
`, a.dir, a.ingest, a.admin, a.proxy.addr(), a.id, prefix))
	return a
}

func (r *fleetRig) startRouter(rt *fleetRouter) { rt.start(r.t) }

func (r *fleetRig) startAgent(a *fleetAgent) { a.start(r.t) }

func (rt *fleetRouter) start(t testing.TB) {
	t.Helper()
	rt.e = startEngine(t, rt.cfg)
	rt.e.waitReady(rt.admin, 30*time.Second)
}

func (a *fleetAgent) start(t testing.TB) {
	t.Helper()
	a.e = startEngine(t, a.cfg)
	a.e.waitReady(a.admin, 30*time.Second)
	waitListening(t, a.ingest)
}

// post sends the agent's next event and notes it when acknowledged.
func (a *fleetAgent) post(client *http.Client) {
	a.mu.Lock()
	id := fmt.Sprintf("%s-%06d", a.id, a.next)
	a.next++
	a.mu.Unlock()
	if postEvent(client, "http://"+a.ingest+"/events", id) == http.StatusAccepted {
		a.mu.Lock()
		a.acked = append(a.acked, id)
		a.mu.Unlock()
	}
}

// ackedIDs returns a copy of the acknowledged ids, in order.
func (a *fleetAgent) ackedIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.acked...)
}

// load posts to every agent, one event per interval each, until the
// returned stop is called (stop waits for the posts in flight).
func (r *fleetRig) load() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, a := range r.agents {
		wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			tick := time.NewTicker(r.interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					a.post(client)
				}
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// recovery notes the events acknowledged so far (the backlog when a fault
// ends) and returns a function that waits until every one of them took
// effect at the sink and returns how long that took from now.
func (r *fleetRig) recovery() func() time.Duration {
	start := time.Now()
	var backlog []string
	for _, a := range r.agents {
		backlog = append(backlog, a.ackedIDs()...)
	}
	done := make(chan time.Duration, 1)
	go func() {
		for r.sink.missing(backlog) > 0 && time.Since(start) < 10*time.Minute {
			time.Sleep(20 * time.Millisecond)
		}
		done <- time.Since(start)
	}()
	return func() time.Duration { return <-done }
}

// fleetFaultReport is one fault test's figures.
type fleetFaultReport struct {
	Scenario        string     `json:"scenario"`
	Fault           string     `json:"fault_duration"`
	Acked           int        `json:"acked"`
	StreamRecords   int        `json:"stream_records"`
	Sink            sinkCounts `json:"sink"`
	OrderChecked    bool       `json:"order_checked"`
	RecoverySeconds float64    `json:"recovery_seconds"`
}

// verify is what must hold after every fault, once the load stopped:
// every event an agent acknowledged takes effect at the sink, none twice;
// every request the sink got whole parses (a router SIGKILLed while
// sending one leaves it cut short, which only a killed router may do);
// with partitioned (pinned) routers, each agent's events take effect in the order
// the agent acknowledged them; the stream holds each agent's records once
// and in journal order; and every agent's journal verifies (the agents
// are stopped for that). recovered is fleetRig.recovery's, taken when
// the fault ended.
func (r *fleetRig) verify(scenario string, fault time.Duration, recovered func() time.Duration) fleetFaultReport {
	t := r.t
	t.Helper()
	var acked []string
	perAgent := map[string][]string{}
	for _, a := range r.agents {
		ids := a.ackedIDs()
		require.NotEmpty(t, ids, "%s acknowledged nothing", a.id)
		perAgent[a.id] = ids
		acked = append(acked, ids...)
	}
	deadline := 90*time.Second + time.Duration(len(acked))*time.Millisecond
	require.Eventually(t, func() bool { return r.sink.missing(acked) == 0 }, deadline, 50*time.Millisecond,
		"every acknowledged event reaches the sink (%d of %d missing)", r.sink.missing(acked), len(acked))
	recovery := recovered()
	counts := r.sink.counts()
	require.Zero(t, counts.DuplicateEffects, "events that took effect twice at the idempotent sink")
	require.Zero(t, counts.BadRequests, "requests the sink could not read")
	if !r.killed {
		require.Zero(t, counts.CutRequests, "requests cut short with no router killed")
	}
	if r.partitioned {
		effects := r.sink.effects()
		for agent, ids := range perAgent {
			want := map[string]bool{}
			for _, id := range ids {
				want[id] = true
			}
			var got []string
			for _, id := range effects[agent] {
				if want[id] {
					got = append(got, id)
				}
			}
			require.Equal(t, ids, got, "%s's events take effect in the order the agent acknowledged them", agent)
		}
	}
	records := r.checkStream()
	for _, a := range r.agents {
		require.NoError(t, a.e.stop(30*time.Second), a.id)
		out, stderr, code := sluice(t, nil, "journal", "verify", "--dir", filepath.Join(a.dir, "journal"))
		require.Zero(t, code, "%s: journal verify: %s %s", a.id, out, stderr)
	}
	rep := fleetFaultReport{
		Scenario: scenario, Fault: fault.String(), Acked: len(acked), StreamRecords: records, Sink: counts,
		OrderChecked: r.partitioned, RecoverySeconds: recovery.Seconds(),
	}
	t.Logf("fleet fault %s: %+v", scenario, rep)
	if path := os.Getenv(fleetReportEnv); path != "" {
		b, err := json.Marshal(rep)
		require.NoError(t, err)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		require.NoError(t, err)
		_, err = f.Write(append(b, '\n'))
		require.NoError(t, errors.Join(err, f.Close()))
	}
	return rep
}

// checkStream reads the whole fleet stream and requires each agent's
// records to be there once each, in journal order from 1 without a gap
// (what the forwarder promises: it never publishes a record before its
// predecessor, and resends carry the same Nats-Msg-Id). It returns the
// number of records.
func (r *fleetRig) checkStream() int {
	t := r.t
	t.Helper()
	nc, err := nats.Connect(r.nats.url())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := js.Stream(ctx, fleet.DefaultStreamName)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	last := map[string]uint64{}
	n := 0
	for n < int(info.State.Msgs) {
		batch, err := c.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		require.NoError(t, err)
		got := 0
		for m := range batch.Messages() {
			got++
			n++
			agent := m.Headers().Get(fleet.HeaderAgent)
			seq, err := strconv.ParseUint(m.Headers().Get(fleet.HeaderSeq), 10, 64)
			require.NoError(t, err, "stream message without a sequence")
			require.Equal(t, last[agent]+1, seq, "%s's records in the stream: after %d comes %d", agent, last[agent], seq)
			require.Equal(t, fleet.MsgID(agent, seq), m.Headers().Get(fleet.HeaderMsgID))
			last[agent] = seq
		}
		require.NoError(t, batch.Error())
		require.NotZero(t, got, "the stream ended before its %d messages were read", info.State.Msgs)
	}
	require.Len(t, last, len(r.agents), "every agent has records in the stream")
	return n
}

// forwardDuplicates returns the agent's sluice.fleet.forward.duplicates
// counter from its admin /metrics (0 when not reported yet).
func (a *fleetAgent) forwardDuplicates(t *testing.T) int {
	t.Helper()
	return int(scrapeCounter(t, a.admin, "sluice_fleet_forward_duplicates"))
}
