package hostpluginsink_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

var benchObservations = map[string]hostpluginsink.Observation{
	"heartbeat": {Name: hostpluginsink.NameHeartbeat, IsHealthy: true},
	"versions": {Name: hostpluginsink.NameVersions,
		Value: "[HTTP Failed] [500: Internal Server Error] b'The plugin is starting; retry later'"},
	"long-non-ascii": {Name: strings.Repeat("Überwachung ", 8), Description: strings.Repeat("naïve café – ✓ ", 12),
		Value: strings.Repeat("😀 𝄞 日本語 ", 20)},
}

// BenchmarkAppendBody measures the WALinuxAgent-compatible body encoder,
// appending into a reused buffer as the sink does.
func BenchmarkAppendBody(b *testing.B) {
	for _, name := range []string{"heartbeat", "versions", "long-non-ascii"} {
		obs := benchObservations[name]
		b.Run(name, func(b *testing.B) {
			buf := hostpluginsink.AppendBody(nil, "Sluice", obs)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = hostpluginsink.AppendBody(buf[:0], "Sluice", obs)
			}
		})
	}
}

// BenchmarkEncodingJSON is the baseline: encoding/json marshalling the
// same data (compact, HTML-escaped, not truncated: it cannot produce
// WALinuxAgent's bytes, and is here only for scale).
func BenchmarkEncodingJSON(b *testing.B) {
	type observation struct {
		ObservationName string
		IsHealthy       bool
		Description     string
		Value           string
	}
	type body struct {
		Api          string
		Version      string
		Source       string
		Observations []observation
	}
	for _, name := range []string{"heartbeat", "versions", "long-non-ascii"} {
		o := benchObservations[name]
		v := body{Api: "reporttargethealth", Version: "1.0", Source: "Sluice",
			Observations: []observation{{o.Name, o.IsHealthy, o.Description, o.Value}}}
		b.Run(name, func(b *testing.B) {
			out, _ := json.Marshal(v)
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeliver measures Deliver of a batch of hostplugin probe
// heartbeats through the built-in mapping, the error state and one POST
// (the batch's newest state; WALinuxAgent's Connection: close, so one
// TCP connection each) to a loopback server.
func BenchmarkDeliver(b *testing.B) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
			}))
			b.Cleanup(srv.Close)
			s := newSink(b, testConfig(b, hostPort(srv)), pipeline.NopSettings("bench"))
			ok, failing := heartbeat(epoch, true), heartbeat(epoch, false)
			at := epoch
			batch := make([]pipeline.Delivery, size)
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					at = at.Add(time.Minute)
					batch[i] = ok
					if i%7 == 3 {
						batch[i] = failing
					}
					batch[i].Event.Time = at
				}
				if err := s.Deliver(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
