package natsjournal_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
)

// BenchmarkForwarder compares the forwarder with JetStream's own
// asynchronous publishing, on the same in-process nats-server setup, the
// same message (a journal export line of a 200-byte event, with the
// fleet headers and Nats-Msg-Id) and the same in-flight bound (the
// agent's default max_in_flight). Each iteration runs the three sides,
// one after the other, on forwardRound messages each, so that they share
// the machine's noise:
//
//   - jetstream-async: nats.go's PublishMsgAsync of the messages, then
//     PublishAsyncComplete; the ceiling for one publishing connection.
//   - jetstream-async-timeout: the same with the forwarder's ack timeout
//     (WithPublishAsyncTimeout, a timer per message, which the forwarder
//     needs so that a lost ack frees its slot and is sent again).
//   - forwarder: a journal of as many records (appended beforehand),
//     opened with the nats backend, until the forwarder's cursor passed
//     the last record (every record acknowledged, the cursor committed).
//
// Each side's rate is its messages over the span between the first and
// the last message's store time in the stream (the server's clock), so
// that neither counts its setup (the forwarder opens the journal,
// stores the agent id, connects and checks the stream first).
//
// It reports the rates (msgs/s) and forwarder/jetstream, the ratio of
// the forwarder's to plain async publishing (and to it with the timeout),
// and each side's CPU per message and the same ratios by CPU (see side);
// the target is a ratio ≥ 0.8:
//
//	go test -run '^$' -bench BenchmarkForwarder -benchtime 3x -count 6 ./journal/natsjournal/
func BenchmarkForwarder(b *testing.B) {
	var js, jst, fw side
	for range b.N {
		js.add(publishAsync(b, forwardRound, 0))
		jst.add(publishAsync(b, forwardRound, agentConfig("", "", "").NATS.AckTimeout))
		fw.add(forward(b, forwardRound))
	}
	msgs := float64(b.N * forwardRound)
	b.ReportMetric(msgs/js.span.Seconds(), "jetstream-msgs/s")
	b.ReportMetric(msgs/fw.span.Seconds(), "forwarder-msgs/s")
	b.ReportMetric(js.span.Seconds()/fw.span.Seconds(), "forwarder/jetstream")
	b.ReportMetric(jst.span.Seconds()/fw.span.Seconds(), "forwarder/jetstream-timeout")
	jsCPU, jstCPU, fwCPU := js.perMsg(), jst.perMsg(), fw.perMsg()
	b.ReportMetric(jsCPU*1e6, "jetstream-cpu-µs/msg")
	b.ReportMetric(jstCPU*1e6, "jetstream-timeout-cpu-µs/msg")
	b.ReportMetric(fwCPU*1e6, "forwarder-cpu-µs/msg")
	b.ReportMetric(jsCPU/fwCPU, "forwarder/jetstream-by-cpu")
	b.ReportMetric(jstCPU/fwCPU, "forwarder/jetstream-timeout-by-cpu")
	b.ReportMetric(0, "ns/op")
}

// side is what one side of BenchmarkForwarder took: the span of the
// stream's store times, and the CPU time (user and system) of the whole
// process, the in-process server's work included, over cpuMsgs messages:
// from the first publish until the last ack (the forwarder's from its
// first acknowledged batch on, leaving out its start: opening the
// journal, connecting, checking the stream). The server's share is the
// same for both sides (the same messages stored the same way), so the
// ratio of CPU per message is the ratio of what each side costs: on a
// machine whose cores are all busy, where the wall-time spans mostly
// measure which side the scheduler favoured, the throughput each side
// can reach.
type side struct {
	span, cpu time.Duration
	cpuMsgs   int
}

// perMsg is the side's CPU seconds per message.
func (s *side) perMsg() float64 { return s.cpu.Seconds() / float64(s.cpuMsgs) }

func (s *side) add(o side) {
	s.span += o.span
	s.cpu += o.cpu
	s.cpuMsgs += o.cpuMsgs
}

// processCPU returns the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// forwardRound is how many messages each side of BenchmarkForwarder
// sends per iteration.
const forwardRound = 20000

// publishAsync publishes n fleet messages with PublishMsgAsync, at most
// the agent's max_in_flight pending (and with an ack timeout when
// timeout is positive, as the forwarder publishes), and returns how long
// until every one was acknowledged.
func publishAsync(b *testing.B, n int, timeout time.Duration) side {
	b.StopTimer()
	srv := fleettest.Start(b)
	defer srv.Stop()
	line := exportLine(b)
	nc, err := nats.Connect(srv.URL())
	require.NoError(b, err)
	defer nc.Close()
	opts := []jetstream.JetStreamOpt{jetstream.WithPublishAsyncMaxPending(fleet.DefaultAgentConfig().MaxInFlight)}
	if timeout > 0 {
		opts = append(opts, jetstream.WithPublishAsyncTimeout(timeout))
	}
	js, err := jetstream.New(nc, opts...)
	require.NoError(b, err)
	ensureStream(b, js)
	sc := fleet.DefaultStreamConfig()
	subject := sc.Subject("bench")
	b.StartTimer()
	cpu := processCPU(b)
	for i := range n {
		m := &nats.Msg{Subject: subject, Data: line, Header: nats.Header{}}
		m.Header.Set(fleet.HeaderAgent, "bench")
		m.Header.Set(fleet.HeaderSeq, strconv.Itoa(i+1))
		m.Header.Set(fleet.HeaderPrevHash, "00")
		m.Header.Set(fleet.HeaderType, fleet.ContentType)
		if _, err := js.PublishMsgAsync(m, jetstream.WithMsgID(fleet.MsgID("bench", uint64(i+1))),
			jetstream.WithExpectStream(fleet.DefaultStreamName), jetstream.WithStallWait(10*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("acks did not come within a minute")
	}
	cpu = processCPU(b) - cpu
	b.StopTimer()
	return side{span: storeSpan(b, js, n), cpu: cpu, cpuMsgs: n}
}

// storeSpan returns the time between the store times of the stream's
// first and n-th messages.
func storeSpan(b *testing.B, js jetstream.JetStream, n int) time.Duration {
	b.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, fleet.DefaultStreamName)
	require.NoError(b, err)
	first, err := s.GetMsg(ctx, 1)
	require.NoError(b, err)
	last, err := s.GetMsg(ctx, uint64(n))
	require.NoError(b, err)
	return last.Time.Sub(first.Time)
}

// forward opens a journal of n records with the nats backend and returns
// how long until the forwarder's cursor passed the last one.
func forward(b *testing.B, n int) side {
	b.StopTimer()
	srv := fleettest.Start(b)
	defer srv.Stop()
	dir := b.TempDir()
	fill(b, dir, n)
	js := connectB(b, srv.URL())
	ensureStream(b, js)
	cfg := agentConfig(dir, srv.URL(), "bench")
	cfg.CursorFlushInterval = journal.DefaultCursorFlushInterval // the agent's default, as max_in_flight
	b.StartTimer()
	ctx := context.Background()
	s, err := natsjournal.Backend{}.Open(ctx, cfg, journal.ReadWrite, pipeline.NopSettings("journal"))
	require.NoError(b, err)
	defer func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		require.NoError(b, s.Close(ctx))
	}()
	var cpu time.Duration
	var from uint64 // the cursor when the CPU count started
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Millisecond) {
		next, err := s.Cursor(ctx, natsjournal.Consumer)
		require.NoError(b, err)
		if from == 0 && next > 1 {
			cpu, from = processCPU(b), next
		}
		if next > uint64(n) {
			cpu = processCPU(b) - cpu
			b.StopTimer()
			return side{span: storeSpan(b, js, n), cpu: cpu, cpuMsgs: n + 1 - int(from)}
		}
		if time.Now().After(deadline) {
			b.Fatalf("forwarded %d of %d records in 2 minutes", next-1, n)
		}
	}
}

// benchEvent is the benchmarks' event: 200 bytes of JSON data.
func benchEvent(i int) pipeline.Event {
	return pipeline.Event{Source: "/bench", Type: "sluice.test", Origin: "gen", DataContentType: "application/json",
		Data: fmt.Appendf(nil, `{"n":%d,"pad":"%0180d"}`, i, 0)}
}

// fill appends n records to a plain bbolt journal in dir, in batches of
// 1,000, and closes it.
func fill(b *testing.B, dir string, n int) {
	b.Helper()
	cfg := journal.DefaultConfig()
	cfg.Dir = dir
	ctx := context.Background()
	j, err := journal.BBolt{}.Open(ctx, cfg, journal.ReadWrite, pipeline.NopSettings("journal"))
	require.NoError(b, err)
	for i := 0; i < n; i += 1000 {
		evs := make([]pipeline.Event, min(1000, n-i))
		for k := range evs {
			evs[k] = benchEvent(i + k)
		}
		_, err := j.Append(ctx, pipeline.AppendBatch{Events: evs})
		require.NoError(b, err)
	}
	require.NoError(b, j.Close(ctx))
}

// exportLine returns the journal export line of benchEvent(0), what the
// forwarder sends for it.
func exportLine(b *testing.B) []byte {
	b.Helper()
	dir := b.TempDir()
	fill(b, dir, 1)
	cfg := journal.DefaultConfig()
	cfg.Dir = dir
	ctx := context.Background()
	j, err := journal.BBolt{}.Open(ctx, cfg, journal.ReadOnly, pipeline.NopSettings("journal"))
	require.NoError(b, err)
	defer func() { require.NoError(b, j.Close(ctx)) }()
	var buf bytes.Buffer
	_, err = j.Export(ctx, &buf, journal.ExportOptions{From: 1, To: 1, Workers: 1})
	require.NoError(b, err)
	line, _, _ := bytes.Cut(buf.Bytes(), []byte("\n"))
	return line
}

func connectB(b *testing.B, url string) jetstream.JetStream {
	b.Helper()
	nc, err := nats.Connect(url)
	require.NoError(b, err)
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(b, err)
	return js
}

// ensureStream creates the fleet stream with the agents' defaults.
func ensureStream(b *testing.B, js jetstream.JetStream) {
	b.Helper()
	_, err := fleet.EnsureStream(context.Background(), js, fleet.DefaultStreamConfig(), slog.New(slog.DiscardHandler))
	require.NoError(b, err)
}
