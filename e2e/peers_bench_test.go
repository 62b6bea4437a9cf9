//go:build peers

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"
)

// peerKnob reads a positive integer setting of the peer job from the
// environment, or def.
func peerKnob(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// peerResult is what the peer job measured of one system.
type peerResult struct {
	rates                []float64     // events/s at saturation, per round
	cpu                  []float64     // the process's CPU µs per event at saturation, per round
	lag                  time.Duration // at the fixed rate: last send to last delivery
	rateDelivered        int
	rssIdle, rssLoad     int64 // bytes: after warm-up, peak under saturation
	sendP50, sendP99     time.Duration
	ackP50, ackP99       time.Duration
	rateSent, rateAcked  int // at the fixed rate
	acked, lost, dups    int // SIGKILL trials, summed
	lossyTrials, refused int
	outBytes             float64 // delivered body bytes per event at saturation (last round)
	outSample            string  // the start of a delivery at saturation (last round)

	// Power-cut trials, summed: acknowledged, lost, repeated arrivals,
	// trials that lost any, trials whose restart failed, files whose
	// unsynced writes a cut dropped.
	powerAcked, powerLost, powerDups, powerLossy, powerNoRestart, powerDropped int
}

// BenchmarkPeerJob (`task bench:peers:job`, build tag peers) runs one
// user-level job on sluice and on real peers built by bench/peers/build,
// interleaved in one run so that all see the same machine: HTTP JSON in,
// a buffer, HTTP out to a loopback target that acknowledges with 200
// (peerTarget). The systems (peerSystems): sluice (http source, journal,
// http sink), the OpenTelemetry Collector (otlp receiver, otlphttp
// exporter with its persistent queue in file_storage, fsync on and off)
// and Redpanda Connect's core (http_server, memory buffer or none,
// http_client). Configs: bench/peers/configs. Phases:
//
//   - saturation: SLUICE_PEERS_ROUNDS rounds (default 3) of
//     SLUICE_PEERS_EVENTS events (default 50,000) per system, 4 clients
//     posting batches of 100, each round on a fresh instance, the systems
//     in turn; events/s is acknowledged-and-delivered events over the
//     time until the target has all of them, CPU µs/event the process's
//     utime+stime over the round per event (less sensitive to the
//     machine's other load than the rate); RSS idle is VmRSS 2 s after the
//     warm-up event, RSS under load its peak while saturated;
//   - latency: single-event POSTs at SLUICE_PEERS_RATE per second
//     (default 1,000) for 5 s from 16 clients; p50/p99 from the client's
//     send to the target's receipt, and to the client's 2xx; lag is the
//     time from the last send until the target had every acknowledged
//     event (a system that cannot keep up at the rate shows it here);
//   - SIGKILL: SLUICE_PEERS_TRIALS trials (default 10) per system, the
//     systems in turn: saturating load for 0.5 to 1.5 s, SIGKILL, restart
//     on the same state directory, and wait until every acknowledged
//     event arrived or none arrived for 5 s; lost is acknowledged (2xx)
//     but never delivered, duplicates are repeated arrivals;
//   - power cut: SLUICE_PEERS_CUTS trials (default 10) per system, the
//     systems in turn, each with its state directory on lazyfs: the same
//     load, SIGKILL and every unsynced write dropped (powerTrial), restart,
//     count as for SIGKILL. SIGKILL alone leaves the page cache, so it
//     cannot tell a buffer that fsyncs from one that does not; this can.
//
// Every system receives the same event bytes (peerEventJSON, a CloudEvent
// of peerEventBytes): sluice and benthos as a JSON array of them, the
// collector as OTLP/HTTP JSON log records whose body string is the event.
//
// It prints a table with ratios to sluice and reports sluice's figures
// and the peers' ratios as metrics.
func BenchmarkPeerJob(b *testing.B) {
	systems := peerSystems(b)
	rounds := peerKnob(b, "SLUICE_PEERS_ROUNDS", 3)
	events := peerKnob(b, "SLUICE_PEERS_EVENTS", 50_000)
	rate := peerKnob(b, "SLUICE_PEERS_RATE", 1000)
	trials := peerKnob(b, "SLUICE_PEERS_TRIALS", 10)
	cuts := peerKnob(b, "SLUICE_PEERS_CUTS", 10)
	results := map[string]*peerResult{}
	for _, s := range systems {
		results[s.name] = &peerResult{}
	}
	for range b.N {
		for round := range rounds {
			for _, s := range systems {
				saturationRound(b, s, results[s.name], events, round == 0)
			}
		}
		for _, s := range systems {
			latencyRun(b, s, results[s.name], rate)
		}
		for range trials {
			for _, s := range systems {
				killTrial(b, s, results[s.name])
			}
		}
		for range cuts {
			for _, s := range systems {
				powerTrial(b, s, results[s.name])
			}
		}
	}
	b.StopTimer()
	reportPeers(b, systems, results, peerRun{rounds: rounds, events: events, rate: rate, trials: trials, cuts: cuts})
}

// saturationRound measures one round of events at saturation on a fresh
// instance of s; the first round also measures RSS idle.
func saturationRound(b *testing.B, s *peerSystem, r *peerResult, events int, first bool) {
	b.Helper()
	target := newPeerTarget(b, s.parse)
	in := s.start(b, b.TempDir(), target, -1)
	pid := in.e.cmd.Process.Pid
	if first {
		time.Sleep(2 * time.Second)
		r.rssIdle = procKB(b, pid, "VmRSS")
	}
	stop := make(chan struct{})
	peak := sampleRSS(pid, stop)
	cpu0, start := procCPU(b, pid), time.Now()
	log := saturate(in, events, 100, 4, nil)
	if !target.waitDistinct(len(log.acked)+1, 5*time.Minute) {
		b.Fatalf("%s delivered %d of %d", s.name, target.distinct()-1, len(log.acked))
	}
	elapsed, cpu := time.Since(start), procCPU(b, pid)-cpu0
	close(stop)
	r.cpu = append(r.cpu, float64(cpu.Microseconds())/float64(len(log.acked)))
	r.rssLoad = max(r.rssLoad, <-peak)
	r.rates = append(r.rates, float64(len(log.acked))/elapsed.Seconds())
	r.refused += log.refusals
	r.outBytes, r.outSample = target.bytesPerEvent(), target.firstDelivery()
	b.Logf("%s: %.0f events/s (%d refusals retried)", s.name, r.rates[len(r.rates)-1], log.refusals)
	_ = in.e.stop(30 * time.Second)
}

// latencyRun measures latency at a fixed rate on a fresh instance of s.
func latencyRun(b *testing.B, s *peerSystem, r *peerResult, rate int) {
	b.Helper()
	target := newPeerTarget(b, s.parse)
	in := s.start(b, b.TempDir(), target, -1)
	log := atRate(in, rate, 16, 5*time.Second)
	sent := time.Now()
	target.waitAll(log.acked, 10*time.Second, 2*time.Minute)
	r.lag = time.Since(sent)
	r.rateDelivered, _ = target.delivered(log.acked)
	sends := target.takeLatencies()
	if len(sends) == 0 || len(log.latency) == 0 {
		b.Fatalf("%s: nothing delivered at %d/s", s.name, rate)
	}
	acks := log.latency
	slices.Sort(acks)
	r.sendP50, r.sendP99 = sends[len(sends)/2], sends[len(sends)*99/100]
	r.ackP50, r.ackP99 = acks[len(acks)/2], acks[len(acks)*99/100]
	r.rateSent, r.rateAcked = len(log.acked)+log.refusals, len(log.acked)
	_ = in.e.stop(30 * time.Second)
}

// killTrial SIGKILLs s under saturating load and counts what it lost of
// what it had acknowledged once restarted on the same state directory.
func killTrial(b *testing.B, s *peerSystem, r *peerResult) {
	b.Helper()
	dir := b.TempDir()
	target := newPeerTarget(b, s.parse)
	in := s.start(b, dir, target, -1)
	stop := make(chan struct{})
	done := make(chan *ackLog)
	go func() { done <- saturate(in, 1<<30, 100, 4, stop) }()
	time.Sleep(500*time.Millisecond + rand.N(time.Second))
	_ = in.e.cmd.Process.Signal(syscall.SIGKILL)
	<-in.e.done
	close(stop)
	log := <-done
	again := s.start(b, dir, target, -2)
	target.waitAll(log.acked, 5*time.Second, 2*time.Minute)
	got, dups := target.delivered(log.acked)
	lost := len(log.acked) - got
	r.acked += len(log.acked)
	r.lost += lost
	r.dups += dups
	if lost > 0 {
		r.lossyTrials++
	}
	_ = again.e.stop(30 * time.Second)
}

// peerRun is the peer job's settings, for the report.
type peerRun struct{ rounds, events, rate, trials, cuts int }

// reportPeers prints the results as a table (ratios to the first system,
// sluice) and reports them as metrics.
func reportPeers(b *testing.B, systems []*peerSystem, results map[string]*peerResult, run peerRun) {
	b.Helper()
	base := results[systems[0].name]
	var out strings.Builder
	fmt.Fprintf(&out, "\npeer job: %d rounds of %d events at saturation; %d/s for 5 s; %d SIGKILL trials and %d power cuts each; %d cores; every event the same %d bytes of CloudEvent JSON\n",
		run.rounds, run.events, run.rate, run.trials, run.cuts, runtime.NumCPU(), peerEventBytes())
	w := tabwriter.NewWriter(&out, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	_, _ = fmt.Fprintln(w, "system\tevents/s (median)\t×sluice\tCPU µs/event\t×sluice\tRSS idle MB\tRSS load MB\t×sluice\tsend p50 ms\tp99 ms\t×sluice\tlag s\tack p50 ms\tp99 ms\t"+
		"kill acked\tlost\tlossy\tdups\tpower acked\tlost\tlossy\tno restart\tdups\tin B/event\tout B/event\t")
	for _, s := range systems {
		r := results[s.name]
		med, cpu := median(r.rates), median(r.cpu)
		_, _ = fmt.Fprintf(w, "%s\t%.0f\t%.2f\t%.1f\t%.2f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t%.2f\t%.2f\t%d\t%d\t%d/%d\t%d\t%d\t%d\t%d/%d\t%d\t%d\t%.1f\t%.1f\t\n",
			s.name, med, med/median(base.rates), cpu, cpu/median(base.cpu), mb(r.rssIdle), mb(r.rssLoad), float64(r.rssLoad)/float64(base.rssLoad),
			ms(r.sendP50), ms(r.sendP99), float64(r.sendP99)/float64(base.sendP99), r.lag.Seconds(), ms(r.ackP50), ms(r.ackP99),
			r.acked, r.lost, r.lossyTrials, run.trials, r.dups,
			r.powerAcked, r.powerLost, r.powerLossy, run.cuts, r.powerNoRestart, r.powerDups,
			s.requestBytesPerEvent(), r.outBytes)
		metric := strings.NewReplacer("/", "-", "=", "-").Replace(s.name)
		b.ReportMetric(med, metric+"-events/s")
		b.ReportMetric(float64(r.lost), metric+"-lost")
		b.ReportMetric(float64(r.powerLost), metric+"-power-lost")
	}
	_ = w.Flush()
	for _, s := range systems {
		r := results[s.name]
		fmt.Fprintf(&out, "%s: rounds %s events/s, %s CPU µs/event; at %d/s %d of %d acknowledged, %d delivered; %d refusals retried at saturation; power cuts dropped unsynced writes of %d file(s); ack means: %s\n",
			s.name, formatRates(r.rates, 0), formatRates(r.cpu, 1), run.rate, r.rateAcked, r.rateSent, r.rateDelivered, r.refused, r.powerDropped, s.durable)
	}
	for _, s := range systems {
		fmt.Fprintf(&out, "%s: a request of one event: %s\n  a delivery at saturation starts: %s\n", s.name, oneEventRequest(s), results[s.name].outSample)
	}
	b.Log(out.String())
	fmt.Println(out.String())
}

// oneEventRequest is a request of one job event to s, as the load sends
// it.
func oneEventRequest(s *peerSystem) string {
	return string(s.body([]peerEvent{{n: peerIDBase, sent: 1_000_000_000_000_000_000}}))
}

// procRSS returns the resident set size (VmRSS) of process pid in bytes.
func procRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func formatRates(xs []float64, prec int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', prec, 64)
	}
	return strings.Join(parts, ", ")
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
