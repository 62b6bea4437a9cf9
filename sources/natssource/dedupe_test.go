package natssource_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources/natssource"
)

// An agent's records published again after the stream's duplicate window
// are stored twice; the routers' dedupe bucket appends each (agent,
// sequence) once and counts the second copies. Without the bucket both
// copies are appended (which is what the bucket is for).
func TestRecordsRepublishedAfterTheWindowAreAppendedOnce(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		bucket     string
		routers    int
		appended   int
		duplicates int64
	}{
		{"dedupe", fleet.DefaultDedupeConfig().Bucket, 1, 50, 50},
		{"dedupe shared by two routers", fleet.DefaultDedupeConfig().Bucket, 2, 50, 50},
		{"no dedupe", "", 1, 100, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := fleettest.Start(t)
			js := srv.JetStream(t)
			sc := fleet.DefaultStreamConfig()
			jc := sc.JetStream()
			stream, err := js.CreateStream(t.Context(), jc)
			require.NoError(t, err)
			// The agent forwards under the default duplicate window: a
			// batch it sends again (its acknowledgement late on a loaded
			// machine) is stored once. Its records are then published
			// twice, a window apart, to a stream with a short window: the
			// second copies are the only ones.
			a := agent(t, srv.URL(), "vm-a", 50)
			require.Eventually(t, func() bool { return msgs(t, stream) == 50 }, 10*time.Second, 10*time.Millisecond)
			require.NoError(t, a.Close(t.Context()))
			require.Equal(t, uint64(50), msgs(t, stream), "the agent stored each record once")
			var records []*jetstream.RawStreamMsg
			for seq := uint64(1); seq <= 50; seq++ {
				raw, err := stream.GetMsg(t.Context(), seq)
				require.NoError(t, err)
				records = append(records, raw)
			}
			require.NoError(t, js.DeleteStream(t.Context(), jc.Name))
			jc.Duplicates = 200 * time.Millisecond
			stream, err = js.CreateStream(t.Context(), jc)
			require.NoError(t, err)
			publish := func() {
				for _, raw := range records {
					m := nats.NewMsg(raw.Subject)
					m.Header, m.Data = raw.Header, raw.Data
					ack, err := js.PublishMsg(t.Context(), m)
					require.NoError(t, err)
					require.False(t, ack.Duplicate, "the stream no longer remembers %s", raw.Header.Get(fleet.HeaderMsgID))
				}
			}
			publish()
			time.Sleep(300 * time.Millisecond) // past the duplicate window
			publish()
			require.Equal(t, uint64(100), msgs(t, stream), "the stream holds both copies")

			reader := sdkmetric.NewManualReader()
			set := pipeline.NopSettings("fleet")
			set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			var rs []*router
			for range c.routers {
				rs = append(rs, startRouterWith(t, srv.URL(), set, func(cfg *natssource.Config) {
					cfg.Dedupe.Bucket, cfg.Batch = c.bucket, 8
				}))
			}
			require.Eventually(t, func() bool {
				cons, err := js.Consumer(t.Context(), fleet.DefaultStreamName, "sluice-routers")
				if err != nil {
					return false
				}
				info, err := cons.Info(t.Context())
				return err == nil && info.AckFloor.Stream == 100 && info.NumAckPending == 0
			}, 60*time.Second, 20*time.Millisecond, "every copy was settled")
			seen := map[key]int{}
			for _, r := range rs {
				for _, e := range r.host.Events() {
					seen[keyOf(t, e)]++
				}
			}
			total := 0
			for _, n := range seen {
				total += n
			}
			assert.Len(t, seen, 50)
			assert.Equal(t, c.appended, total)
			assert.Equal(t, c.duplicates, counter(t, reader, "sluice.fleet.route.duplicates"))
		})
	}
}

func msgs(t *testing.T, s jetstream.Stream) uint64 {
	t.Helper()
	info, err := s.Info(t.Context())
	require.NoError(t, err)
	return info.State.Msgs
}

// counter sums a counter's points.
func counter(t *testing.T, r *sdkmetric.ManualReader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, dp := range s.DataPoints {
					n += dp.Value
				}
			}
		}
	}
	return n
}
