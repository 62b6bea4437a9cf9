package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/otlptest"
)

// collector is an HTTP sink's peer: it counts CloudEvents received in
// batch or structured mode and, for events whose data carries "sent"
// (unix nanos), records the latency from the client's send.
type collector struct {
	received  atomic.Int64
	mu        sync.Mutex
	latencies []time.Duration
	arrivals  map[int64]time.Time // by "sent", when recording arrivals
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	now := time.Now()
	var events []struct {
		Data struct {
			Sent int64 `json:"sent"`
		} `json:"data"`
	}
	if len(body) > 0 && body[0] == '[' {
		err = json.Unmarshal(body, &events)
	} else {
		events = events[:0]
		var one struct {
			Data struct {
				Sent int64 `json:"sent"`
			} `json:"data"`
		}
		err = json.Unmarshal(body, &one)
		events = append(events, one)
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, e := range events {
		if e.Data.Sent != 0 {
			c.latencies = append(c.latencies, now.Sub(time.Unix(0, e.Data.Sent)))
			if c.arrivals != nil {
				c.arrivals[e.Data.Sent] = now
			}
		}
	}
	c.mu.Unlock()
	c.received.Add(int64(len(events)))
	w.WriteHeader(http.StatusAccepted)
}

// startRelay runs sluice from an http source to an http sink in batch
// mode pointing at c, and returns the ingest URL.
func startRelay(b *testing.B, c *collector, env ...string) string {
	b.Helper()
	srv := httptest.NewServer(c)
	b.Cleanup(srv.Close)
	url, e := relay(b, srv.URL, env...)
	b.Cleanup(func() { _ = e.stop(30 * time.Second) })
	return url
}

// relay runs sluice, with env added, from an http source to an http sink
// in batch mode posting to peer, waits until it is ready and returns the
// ingest URL and the engine.
func relay(tb testing.TB, peer string, env ...string) (string, *engine) {
	tb.Helper()
	dir := tb.TempDir()
	ingest, admin := freeAddr(tb), freeAddr(tb)
	cfg := writeFile(tb, dir, "relay.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: "%[3]s"}
log: {level: warn}
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", max_body_bytes: 8MiB, max_batch_events: 10000}
sinks:
  - name: peer
    type: http
    with: {url: "%[4]s/events", mode: batch, max_events: 500, max_bytes: 4MiB}
    batch: {max_events: 1000, max_bytes: 4MiB}
routes:
  - {name: relay, from: [ingest], to: [peer]}
`, dir, ingest, admin, peer))
	e := startEngine(tb, cfg, env...)
	e.waitReady(admin, 30*time.Second)
	return "http://" + ingest + "/events", e
}

// BenchmarkEndToEndHTTP measures events per second from the HTTP source
// (CloudEvents batch mode, 100 events per request, 4 concurrent clients)
// through the durable journal to the HTTP sink (batch mode) on loopback,
// until the peer has received every event.
func BenchmarkEndToEndHTTP(b *testing.B) { benchRelay(b) }

// BenchmarkEndToEndTracing is BenchmarkEndToEndHTTP with tracing off (no
// exporter configured: a no-op tracer) and on (every span exported over
// OTLP/HTTP to a receiver in this process, metrics export off), for the
// cost of tracing as a ratio; "unsampled" is tracing on with
// OTEL_TRACES_SAMPLER=always_off: events carry a traceparent, nothing is
// recorded or exported, which separates what propagation costs.
func BenchmarkEndToEndTracing(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchRelay(b) })
	b.Run("unsampled", func(b *testing.B) {
		rcv := otlptest.NewReceiver()
		benchRelay(b, "OTEL_TRACES_EXPORTER=otlp", "OTEL_METRICS_EXPORTER=none", "OTEL_TRACES_SAMPLER=always_off",
			"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.ServeHTTP(b))
	})
	b.Run("on", func(b *testing.B) {
		rcv := otlptest.NewReceiver()
		benchRelay(b, "OTEL_TRACES_EXPORTER=otlp", "OTEL_METRICS_EXPORTER=none",
			"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.ServeHTTP(b))
		b.StopTimer()
		if !rcv.Wait(context.Background(), 15*time.Second, func(r *otlptest.Receiver) bool { return len(r.Spans()) > 0 }) {
			b.Fatal("no span reached the receiver")
		}
	})
}

// benchRelay posts b.N events (batches of 100, 4 clients) through a relay
// run with env and waits until the peer has them all.
func benchRelay(b *testing.B, env ...string) {
	c := &collector{}
	url := startRelay(b, c, env...)
	const perRequest, clients = 100, 4
	body := batchBody(perRequest, 0)
	requests := (b.N + perRequest - 1) / perRequest
	want := int64(requests * perRequest)
	b.SetBytes(int64(len(body) / perRequest))
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{}
			for next.Add(1) <= int64(requests) {
				if err := post(client, url, "application/cloudevents-batch+json", body); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for deadline := time.Now().Add(2 * time.Minute); c.received.Load() < want; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			b.Fatalf("peer received %d of %d", c.received.Load(), want)
		}
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkEndToEndLatency posts single events at 5,000 per second for
// two seconds and reports latency percentiles: send-ms from the client's
// send to the peer's receipt (ingest, fsync'd append, routing and the
// sink's POST), ingest-ms from send to the 202 (the durable append as the
// client sees it), and after-ack-ms from the 202 to the peer's receipt
// (an upper bound of append-to-delivery, since the append is durable
// before the 202 is written).
func BenchmarkEndToEndLatency(b *testing.B) {
	for range b.N {
		c := &collector{arrivals: map[int64]time.Time{}}
		var ackMu sync.Mutex
		acks := map[int64]time.Time{}
		var ingest []time.Duration
		url := startRelay(b, c)
		const rate, seconds, clients = 5000, 2, 16
		total := rate * seconds
		interval := time.Second * clients / rate
		b.ResetTimer()
		var wg sync.WaitGroup
		for w := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{}
				tick := time.NewTicker(interval)
				defer tick.Stop()
				for i := w; i < total; i += clients {
					<-tick.C
					sent := time.Now().UnixNano()
					ev := fmt.Sprintf(`{"specversion":"1.0","id":"l-%d","source":"/bench","type":"bench","data":{"sent":%d}}`, i, sent)
					if err := post(client, url, "application/cloudevents+json", []byte(ev)); err != nil {
						b.Error(err)
						return
					}
					acked := time.Now()
					ackMu.Lock()
					acks[sent] = acked
					ingest = append(ingest, acked.Sub(time.Unix(0, sent)))
					ackMu.Unlock()
				}
			}()
		}
		wg.Wait()
		for deadline := time.Now().Add(time.Minute); c.received.Load() < int64(total); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("peer received %d of %d", c.received.Load(), total)
			}
		}
		b.StopTimer()
		c.mu.Lock()
		var afterAck []time.Duration
		for sent, arrived := range c.arrivals {
			afterAck = append(afterAck, max(0, arrived.Sub(acks[sent])))
		}
		reportPercentiles(b, "send", c.latencies)
		c.mu.Unlock()
		reportPercentiles(b, "ingest", ingest)
		reportPercentiles(b, "after-ack", afterAck)
	}
}

// reportPercentiles reports the p50 and p99 of ds in milliseconds.
func reportPercentiles(b *testing.B, name string, ds []time.Duration) {
	b.Helper()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, name+"-p50-ms")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, name+"-p99-ms")
}

func batchBody(n, offset int) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	pad := bytes.Repeat([]byte("x"), 120)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"specversion":"1.0","id":"` + strconv.Itoa(offset+i) + `","source":"/bench","type":"bench","data":{"pad":"` + string(pad) + `"}}`)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func post(client *http.Client, url, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("ingest answered %s", resp.Status)
	}
	return nil
}
