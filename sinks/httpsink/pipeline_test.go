package httpsink_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// burstSource emits n events in batches of 100, then waits for the end.
type burstSource struct{ n int }

type burstConfig struct{}

func (*burstConfig) Validate() error { return nil }

func (s burstSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	for first := 0; first < s.n; first += 100 {
		var evs []pipeline.Event
		for i := first; i < min(first+100, s.n); i++ {
			evs = append(evs, pipeline.Event{ID: fmt.Sprintf("ev-%05d", i), Type: "sluice.test", DataContentType: "application/json", Data: []byte(`{"i":1}`)})
		}
		if _, err := host.Emit(ctx, evs); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

// TestPipelineDeliversEverythingDespiteTransientFailures (D3, end to
// end): through pipeline.New with the real journal and the runner's
// retries, a peer answering 503 to 5% of structured requests gets every
// event, and the events it took more than once are bounded by the
// requests it failed (the runner retried whole batches: at 1% errors a
// cursor stood at 12 of 20,328 after 80 s).
func TestPipelineDeliversEverythingDespiteTransientFailures(t *testing.T) {
	t.Parallel()
	const n = 2000
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(1, 2))
	failedRequests := 0
	p := newPeer(t, func(*http.Request, *received, int) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if rnd.IntN(20) == 0 {
			failedRequests++
			return http.StatusServiceUnavailable, "busy"
		}
		return http.StatusOK, ""
	})
	j, err := journal.Open(t.TempDir(), journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })

	srcs, err := pipeline.NewRegistry(pipeline.NewSourceFactory("burst", func() *burstConfig { return &burstConfig{} },
		func(context.Context, pipeline.Settings, *burstConfig) (pipeline.Source, error) {
			return burstSource{n: n}, nil
		}))
	require.NoError(t, err)
	sinks, err := pipeline.NewRegistry(httpsink.NewFactory())
	require.NoError(t, err)
	spec := pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "burst", Config: &burstConfig{}}},
		Sinks: []pipeline.SinkSpec{{Name: "out", Type: httpsink.Type, Config: p.config(httpsink.ModeStructured),
			Retry: pipeline.RetryConfig{Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2},
			Batch: pipeline.DefaultBatchConfig()}},
		Routes:          []pipeline.RouteSpec{{Name: "all", From: []string{"in"}, To: []string{"out"}}},
		ShutdownTimeout: 5 * time.Second,
	}
	pl, err := pipeline.New(t.Context(), spec, pipeline.Registries{Sources: srcs, Sinks: sinks}, j, pipeline.NopSettings("sluice"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pl.Run(ctx) }()

	unique := func() map[string]int {
		seen := map[string]int{}
		for _, id := range p.AcceptedIDs() {
			seen[id]++
		}
		return seen
	}
	require.Eventually(t, func() bool { return len(unique()) == n }, 60*time.Second, 10*time.Millisecond, "every event delivered")
	cancel()
	require.NoError(t, <-done)

	seen := unique()
	duplicates := len(p.AcceptedIDs()) - n
	mu.Lock()
	failed := failedRequests
	mu.Unlock()
	require.Positive(t, failed, "the peer failed some requests")
	assert.LessOrEqual(t, duplicates, failed, "duplicates are bounded by the failed requests")
	assert.Len(t, seen, n)
	assert.LessOrEqual(t, len(p.Requests()), n+failed+failed, "requests: each event once, plus the failed ones again")
	t.Logf("%d events, %d requests, %d failed, %d duplicates", n, len(p.Requests()), failed, duplicates)
}
