package httpsink_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// BenchmarkDeliver measures the sink against a loopback peer that reads
// and discards the body, so it is the sink's and net/http's cost.
func BenchmarkDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(srv.Close)
	for _, mode := range []httpsink.Mode{httpsink.ModeBatch, httpsink.ModeStructured} {
		b.Run(string(mode), func(b *testing.B) {
			pipelinetest.BenchmarkSink(b, func(b *testing.B) pipeline.Sink {
				cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
				cfg.URL = srv.URL + "/events"
				cfg.Mode = mode
				s, err := httpsink.NewFactory().NewSink(b.Context(), pipeline.NopSettings("bench"), cfg)
				if err != nil {
					b.Fatal(err)
				}
				return s
			})
		})
	}
}
