package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// fleetBacklogEnv sets BenchmarkFleetRecovery's backlog (default 100,000
// events; the full scale is 1,000,000).
const fleetBacklogEnv = "SLUICE_FLEET_BACKLOG"

// BenchmarkFleetRouters measures end to end through routers, with one
// and then two routers sharing the durable consumer, in each iteration
// (so both see the same machine): nats-server and the routers are
// separate processes, the routers idle and ready; the test publishes
// 3 agents × 10,000 fleet records (real journal export lines of 200-byte
// events) and times until the idempotent HTTP sink applied every one.
// It reports both rates and 2/1, their ratio (the target: ≥ 1.6).
//
//	go test -tags 'e2e integration' -run '^$' -bench BenchmarkFleetRouters -benchtime 2x -count 3 ./e2e/
func BenchmarkFleetRouters(b *testing.B) {
	msgs := fleetMessages(b, 3, 10000)
	var one, two routeCost
	for range b.N {
		one.add(routeAll(b, msgs, 1))
		two.add(routeAll(b, msgs, 2))
	}
	n := float64(b.N * len(msgs) * len(msgs[0]))
	b.ReportMetric(n/one.elapsed.Seconds(), "1-router-events/s")
	b.ReportMetric(n/two.elapsed.Seconds(), "2-routers-events/s")
	b.ReportMetric(one.elapsed.Seconds()/two.elapsed.Seconds(), "2/1")
	b.ReportMetric(float64(one.routers.Microseconds())/n, "router-cpu-µs/event")
	b.ReportMetric(float64(one.nats.Microseconds())/n, "nats-cpu-µs/event")
	b.ReportMetric(0, "ns/op")
}

// routeCost is what routing a set of records took: wall time, and the
// CPU time (user and system) of the routers and of nats-server.
type routeCost struct {
	elapsed, routers, nats time.Duration
}

func (c *routeCost) add(o routeCost) {
	c.elapsed += o.elapsed
	c.routers += o.routers
	c.nats += o.nats
}

// processCPU returns the user and system CPU time process pid has used,
// from /proc/<pid>/stat (utime and stime, in clock ticks of 10 ms).
func processCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(tb, err)
	// The command name (field 2) may hold spaces; count from after it.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	require.NoError(tb, err)
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	require.NoError(tb, err)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// fleetMessages returns, per agent ("bench-1", ...), n fleet messages as
// the agent's forwarder would publish them: each event appended to a
// bbolt journal of the agent's, exported, one message per export line.
func fleetMessages(b *testing.B, agents, n int) [][]*message.Message {
	b.Helper()
	ctx := context.Background()
	out := make([][]*message.Message, agents)
	pad := bytes.Repeat([]byte("x"), 180)
	for a := range agents {
		agent := fmt.Sprintf("bench-%d", a+1)
		cfg := journal.DefaultConfig()
		cfg.Dir = filepath.Join(b.TempDir(), agent)
		j, err := journal.BBolt{}.Open(ctx, cfg, journal.ReadWrite, pipeline.NopSettings("journal"))
		require.NoError(b, err)
		for i := 0; i < n; i += 1000 {
			evs := make([]pipeline.Event, min(1000, n-i))
			for k := range evs {
				evs[k] = pipeline.Event{ID: fmt.Sprintf("%s-%06d", agent, i+k), Source: "/bench", Type: "e2e.test", Origin: "ingest",
					DataContentType: "application/json", Data: fmt.Appendf(nil, `{"n":%d,"pad":"%s"}`, i+k, pad)}
			}
			_, err := j.Append(ctx, pipeline.AppendBatch{Events: evs})
			require.NoError(b, err)
		}
		var buf bytes.Buffer
		m, err := j.Export(ctx, &buf, journal.ExportOptions{From: 1, To: uint64(n), Workers: 1})
		require.NoError(b, err)
		require.NoError(b, j.Close(ctx))
		lines := bytes.Split(buf.Bytes(), []byte("\n"))
		for i := range m.Count {
			out[a] = append(out[a], fleet.NewMessage(fleet.Outbound{Agent: agent, Seq: i + 1, Line: lines[i]}))
		}
	}
	return out
}

// routeAll starts nats-server and routers, publishes msgs and returns how
// long until the sink applied them all and the CPU that took, then stops
// everything.
func routeAll(b *testing.B, msgs [][]*message.Message, routers int) routeCost {
	b.Helper()
	b.StopTimer()
	base := b.TempDir()
	srv := startNATS(b, base, freeAddr(b))
	defer srv.kill()
	sink := newIdemSink(b)
	var rts []*fleetRouter
	for i := range routers {
		rt := newFleetRouter(b, base, fmt.Sprintf("router-%d", i+1), srv.url(), sharedConsumer, sink.url())
		rt.start(b)
		rts = append(rts, rt)
	}
	nc, err := nats.Connect(srv.url())
	require.NoError(b, err)
	defer nc.Close()
	pub, err := fleet.NewPublisher(nc, fleet.PublisherConfig{Stream: fleet.DefaultStreamName, MaxInFlight: 1024, AckTimeout: 30 * time.Second})
	require.NoError(b, err)
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	cpu := func() (rt, ns time.Duration) {
		for _, r := range rts {
			rt += processCPU(b, r.e.cmd.Process.Pid)
		}
		return rt, processCPU(b, srv.cmd.Process.Pid)
	}
	rtBefore, nsBefore := cpu()
	b.StartTimer()
	start := time.Now()
	sc := fleet.DefaultStreamConfig()
	for _, m := range msgs {
		agent := m[0].Metadata.Get(fleet.HeaderAgent)
		for i := 0; i < len(m); i += 1000 {
			_, err := pub.PublishBatch(context.Background(), sc.Subject(agent), m[i:min(i+1000, len(m))])
			require.NoError(b, err)
		}
	}
	for deadline := time.Now().Add(5 * time.Minute); sink.counts().Applied < total; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("sink applied %d of %d in 5 minutes", sink.counts().Applied, total)
		}
	}
	cost := routeCost{elapsed: time.Since(start)}
	b.StopTimer()
	rtAfter, nsAfter := cpu()
	cost.routers, cost.nats = rtAfter-rtBefore, nsAfter-nsBefore
	require.Zero(b, sink.counts().DuplicateEffects)
	for _, rt := range rts {
		require.NoError(b, rt.e.stop(30*time.Second))
	}
	b.StartTimer()
	return cost
}

// BenchmarkFleetRecovery measures recovery after a partition with a
// backlog (task bench:fleet runs it with 1,000,000): one agent (through its tcpProxy) and two routers; the agent is
// cut off while the backlog (SLUICE_FLEET_BACKLOG events, default
// 100,000) is posted to it over HTTP, in batches of 1,000, and its local
// sink has written them; then the partition heals. forward-s is from the
// heal until the stream holds the whole backlog (the agent's forwarder,
// reconnecting and draining), deliver-s until the idempotent sink applied
// it all (through both routers). The agent's CPU and memory while it
// forwards are reported too.
//
//	go test -tags 'e2e integration' -run '^$' -bench BenchmarkFleetRecovery -benchtime 1x -count 3 ./e2e/
func BenchmarkFleetRecovery(b *testing.B) {
	backlog := 100000
	if v := os.Getenv(fleetBacklogEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err, fleetBacklogEnv)
		backlog = n
	}
	backlog -= backlog % 1000
	var forwardTime, deliverTime, partitioned, agentCPU time.Duration
	var rssHeal, rssPeak, anonPeak, hwm int64
	for range b.N {
		r := recoverBacklog(b, backlog)
		forwardTime += r.forward
		deliverTime += r.deliver
		partitioned += r.partition
		agentCPU += r.agentCPU
		rssHeal, rssPeak, hwm = max(rssHeal, r.rssHeal), max(rssPeak, r.rssPeak), max(hwm, r.hwm)
		anonPeak = max(anonPeak, r.anonPeak)
	}
	n := float64(b.N)
	b.ReportMetric(float64(backlog), "backlog")
	b.ReportMetric(partitioned.Seconds()/n, "partition-s")
	b.ReportMetric(forwardTime.Seconds()/n, "forward-s")
	b.ReportMetric(float64(backlog)*n/forwardTime.Seconds(), "forward-events/s")
	b.ReportMetric(deliverTime.Seconds()/n, "deliver-s")
	b.ReportMetric(float64(backlog)*n/deliverTime.Seconds(), "recovery-events/s")
	b.ReportMetric(float64(agentCPU.Microseconds())/(float64(backlog)*n), "agent-cpu-µs/event")
	b.ReportMetric(float64(rssHeal)/(1<<20), "agent-rss-heal-MB")
	b.ReportMetric(float64(rssPeak)/(1<<20), "agent-rss-forward-MB")
	b.ReportMetric(float64(anonPeak)/(1<<20), "agent-rss-anon-forward-MB")
	b.ReportMetric(float64(hwm)/(1<<20), "agent-hwm-MB")
	b.ReportMetric(0, "ns/op")
}

// recovered is one BenchmarkFleetRecovery round: the forward and deliver
// times from the heal, how long the partition lasted, the agent's CPU
// time while it forwarded the backlog, and its memory (/proc/<pid>/status):
// VmRSS at the heal and the highest VmRSS seen while it forwarded
// (sampled every 10 ms; it counts the journal's memory-mapped pages the
// forwarder read, RssFile) and of that the highest RssAnon (the heap,
// stacks), and VmHWM, its peak since it started (taking the backlog over
// HTTP included).
type recovered struct {
	forward, deliver, partition, agentCPU time.Duration
	rssHeal, rssPeak, anonPeak, hwm       int64
}

// recoverBacklog runs one BenchmarkFleetRecovery round.
func recoverBacklog(b *testing.B, backlog int) recovered {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	base := b.TempDir()
	srv := startNATS(b, base, freeAddr(b))
	defer srv.kill()
	sink := newIdemSink(b)
	for i := range 2 {
		rt := newFleetRouter(b, base, fmt.Sprintf("router-%d", i+1), srv.url(), sharedConsumer, sink.url())
		rt.start(b)
		defer func() { _ = rt.e.stop(30 * time.Second) }()
	}
	a := newFleetAgent(b, base, "agent-1", srv.addr, "sluice.fleet")
	a.start(b)
	defer func() { _ = a.e.stop(30 * time.Second) }()
	// The forwarder has connected and made sure of the stream: cut now.
	time.Sleep(time.Second)
	a.proxy.partition()
	cut := time.Now()
	const perRequest, clients = 1000, 4
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			client := &http.Client{Timeout: time.Minute}
			for r := next.Add(1) - 1; r < int64(backlog/perRequest); r = next.Add(1) - 1 {
				if err := post(client, "http://"+a.ingest+"/events", "application/cloudevents-batch+json", batchBody(perRequest, int(r)*perRequest)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	local := filepath.Join(a.dir, "local.jsonl")
	require.Eventually(b, func() bool {
		data, err := os.ReadFile(local)
		return err == nil && bytes.Count(data, []byte("\n")) >= backlog
	}, 10*time.Minute, 500*time.Millisecond, "the agent's local sink writes the backlog")

	nc, err := nats.Connect(srv.url())
	require.NoError(b, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(b, err)
	stream, err := js.Stream(context.Background(), fleet.DefaultStreamName)
	require.NoError(b, err)
	var r recovered
	pid := a.e.cmd.Process.Pid
	cpu := processCPU(b, pid)
	r.rssHeal = procKB(b, pid, "VmRSS")
	a.proxy.heal()
	healed := time.Now()
	r.partition = healed.Sub(cut)
	b.StartTimer()
	for r.forward == 0 || r.deliver == 0 {
		if r.forward == 0 {
			r.rssPeak = max(r.rssPeak, procKB(b, pid, "VmRSS"))
			r.anonPeak = max(r.anonPeak, procKB(b, pid, "RssAnon"))
			info, err := stream.Info(context.Background())
			require.NoError(b, err)
			if info.State.Msgs >= uint64(backlog) {
				r.forward = time.Since(healed)
				r.agentCPU = processCPU(b, pid) - cpu
				r.hwm = procKB(b, pid, "VmHWM")
			}
		}
		if r.deliver == 0 && sink.counts().Applied >= backlog {
			r.deliver = time.Since(healed)
		}
		if time.Since(healed) > 10*time.Minute {
			b.Fatalf("not recovered in 10 minutes: sink applied %d of %d", sink.counts().Applied, backlog)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	require.Zero(b, sink.counts().DuplicateEffects)
	return r
}
