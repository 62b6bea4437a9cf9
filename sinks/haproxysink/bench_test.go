package haproxysink_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkUpdateToTraffic measures, against a real HAProxy in
// master-worker mode, the time from handing an UPDATE to the sink until a
// client through HAProxy gets an answer from the node it names: render,
// haproxy -c, rename, master reload, new worker confirmed, traffic. Each
// iteration switches the HTTP load balancer between two backends.
func BenchmarkUpdateToTraffic(b *testing.B) {
	l := newLab(b)
	backends := []*backend{startBackend(b, "a"), startBackend(b, "b")}
	port := freePort(b)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		be := backends[i%2]
		start := time.Now()
		require.NoError(b, l.deliver(update(httpLB(port, node(be.Name, be.Port)))))
		for {
			if body, err := get(port); err == nil && body == be.Name {
				break
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
}
