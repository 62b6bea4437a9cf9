package e2e

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/otlptest"
)

// tracedRelay is relay exporting traces and metrics to an OTLP endpoint
// over proto, quickly (spans every 100ms, metrics every 200ms).
func tracedRelay(tb testing.TB, peer, proto, endpoint string) (string, *engine) {
	tb.Helper()
	return relay(tb, peer, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL="+proto,
		"OTEL_SERVICE_NAME=sluice-e2e", "OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=e2e",
		"OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_METRIC_EXPORT_INTERVAL=200")
}

// One event posted with a traceparent header gives one trace in a real
// OTLP receiver: the source's server span (receive) is the child of the
// caller's span, source.emit of it, journal.append of source.emit; the
// route and deliver spans are children of the event's traceparent (the
// server span), the http sink's POST of sink.deliver, and the peer gets
// the same trace in its traceparent header. The metrics arrive too, with
// the resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
func TestTracesAcrossStages(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"grpc", "http/protobuf"} {
		t.Run(strings.ReplaceAll(proto, "/", "-"), func(t *testing.T) {
			t.Parallel()
			rcv := otlptest.NewReceiver()
			endpoint := rcv.ServeHTTP(t)
			if proto == "grpc" {
				endpoint = rcv.ServeGRPC(t)
			}
			var mu sync.Mutex
			var peerTraceparent string
			peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				peerTraceparent = r.Header.Get("traceparent")
				mu.Unlock()
				w.WriteHeader(http.StatusOK)
			}))
			t.Cleanup(peer.Close)
			url, e := tracedRelay(t, peer.URL, proto, endpoint)

			const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(
				`{"specversion":"1.0","id":"t-1","source":"/e2e","type":"e2e.trace","data":{"n":1}}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/cloudevents+json")
			req.Header.Set("traceparent", "00-"+traceID+"-"+callerSpan+"-01")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusAccepted, resp.StatusCode)

			names := []string{"POST /events", "source.emit", "journal.append", "sink.route", "sink.deliver", "POST"}
			byName := map[string]otlptest.Span{}
			ok := rcv.Wait(t.Context(), 20*time.Second, func(r *otlptest.Receiver) bool {
				for _, s := range r.Spans() {
					byName[s.GetName()] = s
				}
				for _, n := range names {
					if _, ok := byName[n]; !ok {
						return false
					}
				}
				return true
			})
			require.True(t, ok, "spans received: %v", spanNames(rcv.Spans()))
			id := hex.EncodeToString
			for _, n := range names {
				s := byName[n]
				assert.Equal(t, traceID, id(s.GetTraceId()), "%s is in the caller's trace", n)
				assert.Equal(t, "sluice-e2e", s.Resource["service.name"], n)
				assert.Equal(t, "e2e", s.Resource["deployment.environment.name"], n)
			}
			parentOf := map[string]string{
				"POST /events":   callerSpan,
				"source.emit":    id(byName["POST /events"].GetSpanId()),
				"journal.append": id(byName["source.emit"].GetSpanId()),
				"sink.route":     id(byName["POST /events"].GetSpanId()),
				"sink.deliver":   id(byName["POST /events"].GetSpanId()),
				"POST":           id(byName["sink.deliver"].GetSpanId()),
			}
			for n, want := range parentOf {
				assert.Equal(t, want, id(byName[n].GetParentSpanId()), "parent of %s", n)
			}
			mu.Lock()
			assert.Contains(t, peerTraceparent, traceID, "the peer joins the trace")
			mu.Unlock()

			require.True(t, rcv.Wait(t.Context(), 20*time.Second, func(r *otlptest.Receiver) bool {
				return hasMetric(r, "sluice.sink.delivered")
			}), "metrics over OTLP")
			require.NoError(t, e.stop(30*time.Second))
		})
	}
}

func spanNames(spans []otlptest.Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.GetName()
	}
	return out
}

func hasMetric(r *otlptest.Receiver, name string) bool {
	for _, rm := range r.Metrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() == name {
					return true
				}
			}
		}
	}
	return false
}
