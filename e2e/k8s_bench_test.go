package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkK8sSinkEngineRSS measures the sluice engine's own resident
// size with the k8s sink configured against a real kube-apiserver: idle
// (ready, nothing sent yet) and under load (4 clients posting events that
// the sink turns into one Event each, about distinct Nodes so that none is
// folded into a series), sampled every 50 ms from /proc. Reported per run:
// idle-MB, peak-MB, events/s through to the API.
//
//	go test -tags e2e -run '^$' -bench K8sSinkEngineRSS -benchtime 1x -count 3 ./e2e/
func BenchmarkK8sSinkEngineRSS(b *testing.B) {
	const events = 3000
	kube, kubeconfig := startKube(b)
	for i := range b.N {
		dir := b.TempDir()
		ingest, admin := freeAddr(b), freeAddr(b)
		cfg := writeFile(b, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: %[2]s}
log: {level: warn}
sources:
  - name: ingest
    type: http
    with: {listen: "%[3]s", path: /events}
sinks:
  - name: kube
    type: k8s
    with:
      kubeconfig: %[4]s
      qps: 1000
      burst: 2000
      rules:
        - types: [e2e.k8s]
          action: event
          kind: Node
          name: 'node-%[5]d-{{.Data.id}}'
          reason: Bench
          event_action: Load
          note: 'event {{.Data.id}}'
routes:
  - {name: kube, from: [ingest], to: [kube]}
`, dir, admin, ingest, kubeconfig, i))
		e := startEngine(b, cfg)
		e.waitReady(admin, 30*time.Second)
		waitListening(b, ingest)
		time.Sleep(time.Second) // settle
		pid := e.cmd.Process.Pid
		idle := rssBytes(b, pid)

		var peak atomic.Int64
		peak.Store(idle)
		sampling, stopSampling := context.WithCancel(context.Background())
		var sampler sync.WaitGroup
		sampler.Go(func() {
			for sampling.Err() == nil {
				if r := rssBytes(b, pid); r > peak.Load() {
					peak.Store(r)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
		start := time.Now()
		var posters sync.WaitGroup
		for w := range 4 {
			posters.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				for k := w; k < events; k += 4 {
					if code := postTyped(client, "http://"+ingest+"/events", fmt.Sprintf("e%d", k), "e2e.k8s"); code != http.StatusAccepted {
						b.Errorf("post %d: status %d", k, code)
						return
					}
				}
			})
		}
		posters.Wait()
		want := fmt.Sprintf("node-%d-", i)
		require.Eventually(b, func() bool {
			list, err := kube.Client.EventsV1().Events("default").List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return false
			}
			n := 0
			for _, ev := range list.Items {
				if len(ev.Regarding.Name) > len(want) && ev.Regarding.Name[:len(want)] == want {
					n++
				}
			}
			return n >= events
		}, 5*time.Minute, 200*time.Millisecond, "every event reaches the API")
		elapsed := time.Since(start)
		stopSampling()
		sampler.Wait()
		require.NoError(b, e.stop(30*time.Second))
		b.ReportMetric(float64(idle)/(1<<20), "idle-MB")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-MB")
		b.ReportMetric(events/elapsed.Seconds(), "events/s")
	}
}
