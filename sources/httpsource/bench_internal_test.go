package httpsource

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/pipeline"
)

// discardHost acknowledges every emit at once, so the benchmark measures
// the source, not a journal.
type discardHost struct{}

func (discardHost) Emit(_ context.Context, events []pipeline.Event, _ ...pipeline.StateUpdate) (pipeline.AppendResult, error) {
	return pipeline.AppendResult{First: 1, Last: uint64(len(events))}, nil
}

func (discardHost) State(context.Context) (map[string][]byte, error) { return nil, nil }

// BenchmarkHandler measures decoding and answering one request in each
// content mode, without the network.
func BenchmarkHandler(b *testing.B) {
	const ev = `{"specversion":"1.0","id":"a","source":"/bench","type":"acme.bench","subject":"web","time":"2025-01-02T03:04:05Z","datacontenttype":"application/json","data":{"up":true,"latency_ms":12}}`
	batch := "[" + strings.TrimSuffix(strings.Repeat(ev+",", 100), ",") + "]"
	binaryHeaders := map[string]string{
		"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "a", "ce-source": "/bench",
		"ce-type": "acme.bench", "ce-subject": "Euro%20%E2%82%AC", "ce-time": "2025-01-02T03:04:05Z",
	}
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		events  int
	}{
		{"structured", map[string]string{"Content-Type": mediaStructured}, ev, 1},
		{"binary", binaryHeaders, `{"up":true,"latency_ms":12}`, 1},
		{"batch=100", map[string]string{"Content-Type": mediaBatch}, batch, 100},
	}
	src, err := newSource(pipeline.NopSettings("bench"), defaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	h := src.newHandler(discardHost{})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(c.body)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/events", bytes.NewReader(body))
				for k, v := range c.headers {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusAccepted {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N*c.events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
