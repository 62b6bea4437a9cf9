package natsjournal_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

type noConfig struct{}

func (*noConfig) Validate() error { return nil }

// fleetRouter is a router journal on its own connection and, once run is
// called, a pipeline delivering its sink "out" to sink.
type fleetRouter struct {
	j    *natsjournal.Router
	sink *pipelinetest.RecordingSink
	stop func()
}

func openRouter(t *testing.T, url string) *natsjournal.Router {
	t.Helper()
	j, err := natsjournal.OpenRouter(t.Context(), connect(t, url), natsjournal.RouterConfig{
		Stream: fleet.DefaultStreamConfig(), AckWait: 5 * time.Second, MaxAckPending: 1000, Dedupe: fleet.DefaultDedupeConfig(),
	}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	return j
}

// runRouter runs a pipeline on j: route "r" from the agents' source "gen"
// to sink "out".
func runRouter(t testing.TB, j *natsjournal.Router, retry pipeline.RetryConfig, batch int) *fleetRouter {
	t.Helper()
	sink := pipelinetest.NewRecordingSink()
	sinks, err := pipeline.NewRegistry(pipeline.NewSinkFactory("rec", func() *noConfig { return &noConfig{} },
		func(context.Context, pipeline.Settings, *noConfig) (pipeline.Sink, error) { return sink, nil }))
	require.NoError(t, err)
	srcs, err := pipeline.NewRegistry[pipeline.SourceFactory]()
	require.NoError(t, err)
	spec := pipeline.Spec{
		Sinks: []pipeline.SinkSpec{{Name: "out", Type: "rec", Config: &noConfig{}, Retry: retry,
			Batch: pipeline.BatchConfig{MaxEvents: batch, MaxBytes: 1 << 20}}},
		Routes: []pipeline.RouteSpec{{Name: "r", From: []string{"gen"}, To: []string{"out"}}},
	}
	p, err := pipeline.New(t.Context(), spec, pipeline.Registries{Sources: srcs, Sinks: sinks}, j, pipeline.NopSettings("router"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	r := &fleetRouter{j: j, sink: sink, stop: func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}}
	t.Cleanup(r.stop)
	return r
}

// fillStream appends n records on an agent and waits until the stream
// holds them.
func fillStream(t testing.TB, srv *fleettest.Server, agent string, n int) {
	t.Helper()
	a := open(t, agentConfig(t.TempDir(), srv.URL(), agent), pipeline.NopSettings("agent"))
	defer closeStore(t, a)
	appendN(t, a, n)
	waitStream(t, connect(t, srv.URL()), n)
}

func ids(ds []pipeline.Delivery) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		out[d.Event.ID]++
	}
	return out
}

func fastRetry() pipeline.RetryConfig {
	return pipeline.RetryConfig{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2}
}

// Two routers consume the sink's one durable: each delivers a share, and
// together every record once.
func TestRoutersShareTheSinksConsumer(t *testing.T) {
	srv := fleettest.Start(t)
	const n = 300
	fillStream(t, srv, "a1", n)
	var routers []*fleetRouter
	for range 2 {
		r := runRouter(t, openRouter(t, srv.URL()), fastRetry(), 10)
		r.sink.SetHook(func(context.Context, []pipeline.Delivery) error {
			time.Sleep(10 * time.Millisecond) // a sink's round trip, so that both pull
			return nil
		})
		routers = append(routers, r)
	}
	require.Eventually(t, func() bool {
		return len(routers[0].sink.Deliveries())+len(routers[1].sink.Deliveries()) >= n
	}, 60*time.Second, 10*time.Millisecond)
	for _, r := range routers {
		r.stop()
	}
	all := ids(append(routers[0].sink.Deliveries(), routers[1].sink.Deliveries()...))
	assert.Len(t, all, n, "every record delivered")
	for id, k := range all {
		assert.Equal(t, 1, k, "delivered twice: %s", id)
	}
	for i, r := range routers {
		assert.NotEmpty(t, r.sink.Deliveries(), "router %d took a share", i)
	}
	next, err := routers[0].j.Cursor(t.Context(), "out")
	require.NoError(t, err)
	assert.Equal(t, uint64(n+1), next, "every record acked")
	info, err := connect(t, srv.URL()).Consumer(t.Context(), fleet.DefaultStreamName, routers[0].j.Durable("out"))
	require.NoError(t, err)
	assert.Zero(t, info.CachedInfo().NumAckPending)
	assert.Equal(t, -1, info.CachedInfo().Config.MaxDeliver, "max_elapsed 0: unlimited deliveries")
}

// A transient failure is handed back (Nak) and delivered again after the
// policy's delay; a permanent one is terminated and dead-lettered with
// the stream sequence, listed by another router, and redriven from it.
func TestRouterNaksTransientAndDeadLettersPermanent(t *testing.T) {
	srv := fleettest.Start(t)
	fillStream(t, srv, "a1", 5)
	a := runRouter(t, openRouter(t, srv.URL()), pipeline.RetryConfig{Initial: 300 * time.Millisecond, Max: time.Second, Multiplier: 2}, 10)
	var mu sync.Mutex
	failedAt := map[string]time.Time{}
	took := map[string]int{} // agent sequence → deliveries that took effect
	fixed := false
	delivered := func(seq string) int {
		mu.Lock()
		defer mu.Unlock()
		return took[seq]
	}
	a.sink.SetHook(func(_ context.Context, ds []pipeline.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		var be pipeline.BatchError
		for i, d := range ds {
			switch seq := d.Event.Extensions[fleet.ExtSeq]; {
			case seq == "2" && failedAt[seq].IsZero():
				failedAt[seq] = time.Now()
				be.Failed = append(be.Failed, pipeline.DeliveryFailure{Index: i, Err: errors.New("503")})
			case seq == "4" && !fixed:
				be.Failed = append(be.Failed, pipeline.DeliveryFailure{Index: i, Err: pipeline.Permanent(errors.New("400"))})
			default:
				took[seq]++
			}
		}
		if len(be.Failed) > 0 {
			return &be
		}
		return nil
	})
	b := openRouter(t, srv.URL()) // the other router: only its dead-letter commands
	var letters []pipeline.DeadLetter
	require.Eventually(t, func() bool {
		letters = letters[:0]
		err := b.DeadLetters(t.Context(), pipeline.DeadLetterFilter{Sink: "out"}, func(l pipeline.DeadLetter) error {
			letters = append(letters, l)
			return nil
		})
		return err == nil && len(letters) == 1
	}, 20*time.Second, 10*time.Millisecond, "the permanent failure is listed by the other router")
	assert.Equal(t, uint64(4), letters[0].Seq, "the stream sequence is the letter's identity")
	assert.Equal(t, "4", letters[0].Event.Extensions[fleet.ExtSeq])
	var second time.Time
	require.Eventually(t, func() bool {
		second = time.Now()
		return delivered("2") == 1
	}, 20*time.Second, 5*time.Millisecond, "the transient failure is delivered again")
	mu.Lock()
	assert.GreaterOrEqual(t, second.Sub(failedAt["2"]), 300*time.Millisecond, "not before the policy's delay")
	fixed = true
	mu.Unlock()
	n, err := b.RequestRedrive(t.Context(), pipeline.DeadLetterFilter{Sink: "out"})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Eventually(t, func() bool { return delivered("4") == 1 }, 20*time.Second, 5*time.Millisecond,
		"the redrive requested on the other router is delivered")
	mu.Lock()
	assert.Equal(t, map[string]int{"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}, took, "each took effect once")
	mu.Unlock()
	require.Eventually(t, func() bool {
		k := 0
		_ = b.DeadLetters(t.Context(), pipeline.DeadLetterFilter{Sink: "out"}, func(pipeline.DeadLetter) error { k++; return nil })
		return k == 0
	}, 20*time.Second, 10*time.Millisecond, "the redriven letter left the store")
	a.stop()
	info, err := connect(t, srv.URL()).Consumer(t.Context(), fleet.DefaultStreamName, a.j.Durable("out"))
	require.NoError(t, err)
	assert.Zero(t, info.CachedInfo().NumAckPending, "acked or terminated, nothing pending")
}

// SetCursor recreates the sink's durable at a stream sequence (replay
// from there on every router); SeqAtTime finds the first record stored at
// or after a time.
func TestRouterReplayBySequenceAndTime(t *testing.T) {
	srv := fleettest.Start(t)
	fillStream(t, srv, "a1", 3)
	time.Sleep(50 * time.Millisecond)
	mid := time.Now()
	fillStream(t, srv, "a2", 2)
	j := openRouter(t, srv.URL())
	at, err := j.SeqAtTime(t.Context(), mid)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), at)
	future, err := j.SeqAtTime(t.Context(), time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, uint64(6), future)

	r := runRouter(t, j, fastRetry(), 10)
	require.Eventually(t, func() bool { return len(r.sink.Deliveries()) == 5 }, 20*time.Second, 5*time.Millisecond)
	r.stop()
	require.NoError(t, j.SetCursor(t.Context(), "out", 2))
	next, err := j.Cursor(t.Context(), "out")
	require.NoError(t, err)
	assert.Equal(t, uint64(2), next)
	r = runRouter(t, j, fastRetry(), 10)
	require.Eventually(t, func() bool { return len(r.sink.Deliveries()) == 4 }, 20*time.Second, 5*time.Millisecond)
	r.stop()
	var seqs []uint64
	for _, d := range r.sink.Deliveries() {
		seqs = append(seqs, d.Event.Sequence)
	}
	assert.Equal(t, []uint64{2, 3, 4, 5}, seqs, "replayed from stream sequence 2")
	st, err := j.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"out": 6}, st.Cursors)
	assert.Equal(t, uint64(5), st.Last)
}

// journal.nats.role: router opens the Router in every mode (the engine
// and the `sluice journal` tools), with no local journal: a letter one
// router stores is listed by a tool opened Existing from another config.
func TestBackendOpensARouter(t *testing.T) {
	srv := fleettest.Start(t)
	cfg := agentConfig(t.TempDir(), srv.URL(), "")
	cfg.NATS.Role = fleet.RoleRouter
	cfg.NATS.Router.Sources = []string{"gen"}
	require.NoError(t, cfg.Validate())
	require.NoError(t, natsjournal.Backend{}.CheckFree(t.Context(), cfg))
	engine := open(t, cfg, pipeline.NopSettings("router"))
	defer closeStore(t, engine)
	_, ok := engine.(pipeline.ConsumerReader)
	require.True(t, ok, "a router's sinks consume through their own consumers")
	_, err := engine.Append(t.Context(), pipeline.AppendBatch{Events: []pipeline.Event{{Type: "x"}}})
	require.ErrorIs(t, err, natsjournal.ErrRouterAppend)
	require.NoError(t, engine.PutDeadLetters(t.Context(), []pipeline.DeadLetter{{Sink: "out", Seq: 7, Reason: pipeline.ReasonPermanent,
		Event: pipeline.Event{ID: "e7", Type: "x", Sequence: 7}}}))
	tool, err := natsjournal.Backend{}.Open(t.Context(), cfg, journal.Existing, pipeline.NopSettings("dlq"))
	require.NoError(t, err)
	defer closeStore(t, tool)
	var seqs []uint64
	require.NoError(t, tool.DeadLetters(t.Context(), pipeline.DeadLetterFilter{Sink: "out"}, func(l pipeline.DeadLetter) error {
		seqs = append(seqs, l.Seq)
		return nil
	}))
	assert.Equal(t, []uint64{7}, seqs)
	_, err = tool.Verify(t.Context(), 0, 0)
	require.ErrorIs(t, err, natsjournal.ErrRouterAdmin)
	assert.False(t, journal.Exists(cfg.Dir), "no local journal")
}
