package vessink_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// benchCollector is a loopback HTTPS collector that reads each body and
// answers 202, as fast as it can (no validation: that is the tests' job).
func benchCollector(b *testing.B, pki *testPKI) *httptest.Server {
	b.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	b.Cleanup(srv.Close)
	return srv
}

func benchSink(b *testing.B, url string, pki *testPKI, maxBatch int) pipeline.Sink {
	b.Helper()
	cfg := vessink.NewFactory().DefaultConfig().(*vessink.Config)
	cfg.URL = url + "/eventListener/v7"
	cfg.TLS.CAFile = pki.caFile
	cfg.ReportingEntityName = "bench"
	cfg.TimeZone = "UTC"
	cfg.MaxBatchEvents = maxBatch
	s, err := vessink.NewFactory().NewSink(b.Context(), pipeline.NopSettings("ves"), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkDeliver is the shared sink benchmark (pipelinetest sample
// events, other domain) against a loopback HTTPS collector, with the
// default batching (100 events per eventBatch request).
func BenchmarkDeliver(b *testing.B) {
	pki := newPKI(b)
	srv := benchCollector(b, pki)
	pipelinetest.BenchmarkSink(b, func(b *testing.B) pipeline.Sink { return benchSink(b, srv.URL, pki, 100) })
}

// probeEvents is a runner batch of probe state changes and faults, the
// traffic a VES sink carries: runs of one domain, small JSON data.
func probeEvents(n int) []pipeline.Delivery {
	out := make([]pipeline.Delivery, n)
	for i := range out {
		seq := uint64(i + 1)
		at := t0.Add(time.Duration(i) * time.Millisecond)
		if i%64 < 48 {
			out[i] = delivery(seq, "sluice.probe.state", fmt.Sprintf("web-%d", i%50), at, pipeline.SeverityWarning,
				map[string]any{"from": "healthy", "to": "unhealthy", "consecutive_failures": 3, "last_error": "connection refused", "latency_ms": 1.5})
		} else {
			out[i] = delivery(seq, "sluice.vm.fault", fmt.Sprintf("vm-%d", i%50), at, pipeline.SeverityCritical,
				map[string]any{"alarm_condition": "VmStatusError", "nova_status": "ERROR", "source_id": "0b7a6a52-5d3e-4c44-9a3e-5f0d1d2b9e11"})
		}
	}
	return out
}

// BenchmarkDeliverBatching delivers runner batches of 256 probe and fault
// events: with eventBatch requests of up to 100 events, and (the
// baseline) one request per event.
func BenchmarkDeliverBatching(b *testing.B) {
	pki := newPKI(b)
	srv := benchCollector(b, pki)
	batch := probeEvents(256)
	for _, maxBatch := range []int{100, 1} {
		b.Run(fmt.Sprintf("max_batch_events=%d", maxBatch), func(b *testing.B) {
			s := benchSink(b, srv.URL, pki, maxBatch)
			if err := s.Start(b.Context()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close(b.Context()) })
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := s.Deliver(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
		})
	}
}
