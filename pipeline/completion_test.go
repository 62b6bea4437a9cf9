package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// hostSource hands its host to the test and runs until stopped.
type hostSource struct{ host chan pipeline.SourceHost }

func (s *hostSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	s.host <- host
	<-ctx.Done()
	return nil
}

// watchHarness runs a pipeline whose source "in" is driven by the test,
// with sinks "a" (results set from the event id, errors from its data) and
// "b" (only events of type "for-b").
func watchHarness(t *testing.T) (pipeline.SourceHost, pipeline.DeliveryWatcher) {
	t.Helper()
	h := newHarness(t)
	src := &hostSource{host: make(chan pipeline.SourceHost, 1)}
	srcReg, err := pipeline.NewRegistry(pipeline.NewSourceFactory("host", func() *emptyConfig { return &emptyConfig{} },
		func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) { return src, nil }))
	require.NoError(t, err)
	h.regs.Sources = srcReg
	a := h.recording("a")
	h.recording("b")
	a.SetHook(func(ctx context.Context, batch []pipeline.Delivery) error {
		var failed []pipeline.DeliveryFailure
		for i, d := range batch {
			switch string(d.Event.Data) {
			case "permanent":
				failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: pipeline.Permanent(errors.New("rejected by peer"))})
			case "transient":
				failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: errors.New("peer down")})
			default:
				pipeline.SetResult(ctx, d, []byte("result of "+d.Event.ID))
			}
		}
		if failed != nil {
			return &pipeline.BatchError{Failed: failed}
		}
		return nil
	})
	h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "host", Config: &emptyConfig{}}},
		Sinks: []pipeline.SinkSpec{
			{Name: "a", Type: "recording", Config: &emptyConfig{}, Retry: fastRetry()},
			{Name: "b", Type: "recording", Config: &emptyConfig{}},
		},
		Routes: []pipeline.RouteSpec{
			{Name: "to-a", From: []string{"in"}, To: []string{"a"}},
			{Name: "to-b", From: []string{"in"}, To: []string{"b"}, Match: typeMatch("for-b")},
		},
	})
	host := <-src.host
	w, ok := host.(pipeline.DeliveryWatcher)
	require.True(t, ok, "the pipeline's source host implements DeliveryWatcher")
	return host, w
}

// emitWatched watches sinks, emits one event and waits for it.
func emitWatched(ctx context.Context, host pipeline.SourceHost, w pipeline.DeliveryWatcher, ev pipeline.Event, sinks ...string) ([]pipeline.Completion, error) {
	watch, err := w.WatchDeliveries(sinks...)
	if err != nil {
		return nil, err
	}
	defer watch.Close()
	res, err := host.Emit(ctx, []pipeline.Event{ev})
	if err != nil {
		return nil, err
	}
	return watch.Wait(ctx, res.Last)
}

func TestDeliveryWatchOutcomes(t *testing.T) {
	t.Parallel()
	host, w := watchHarness(t)
	tests := []struct {
		name   string
		ev     pipeline.Event
		want   []pipeline.DeliveryOutcome
		result string
		errMsg string
	}{
		{"delivered with result, skipped by b's route", pipeline.Event{ID: "e1", Type: "t", Data: []byte("ok")},
			[]pipeline.DeliveryOutcome{pipeline.OutcomeDelivered, pipeline.OutcomeSkipped}, "result of e1", ""},
		{"delivered at both", pipeline.Event{ID: "e2", Type: "for-b", Data: []byte("ok")},
			[]pipeline.DeliveryOutcome{pipeline.OutcomeDelivered, pipeline.OutcomeDelivered}, "result of e2", ""},
		{"dead-lettered at a", pipeline.Event{ID: "e3", Type: "for-b", Data: []byte("permanent")},
			[]pipeline.DeliveryOutcome{pipeline.OutcomeDeadLettered, pipeline.OutcomeDelivered}, "", "rejected by peer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cs, err := emitWatched(ctx, host, w, tt.ev, "a", "b")
			require.NoError(t, err)
			require.Len(t, cs, 2)
			for i, c := range cs {
				assert.Equal(t, tt.want[i], c.Outcome, "sink %s: %s", c.Sink, c.Outcome)
				assert.NotZero(t, c.Seq)
			}
			assert.Equal(t, "a", cs[0].Sink)
			assert.Equal(t, tt.result, string(cs[0].Result))
			if tt.errMsg != "" {
				require.Error(t, cs[0].Err)
				assert.Contains(t, cs[0].Err.Error(), tt.errMsg)
				assert.Equal(t, pipeline.ReasonPermanent, cs[0].Reason)
			} else {
				assert.NoError(t, cs[0].Err)
			}
		})
	}
}

func TestDeliveryWatchTimesOutWhileRetrying(t *testing.T) {
	t.Parallel()
	host, w := watchHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	cs, err := emitWatched(ctx, host, w, pipeline.Event{ID: "slow", Type: "t", Data: []byte("transient")}, "a")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, cs, 1)
	assert.Equal(t, pipeline.OutcomePending, cs[0].Outcome)
	assert.Equal(t, "a", cs[0].Sink)
}

func TestDeliveryWatchUnknownSink(t *testing.T) {
	t.Parallel()
	_, w := watchHarness(t)
	_, err := w.WatchDeliveries("a", "nope")
	require.ErrorIs(t, err, pipeline.ErrUnknownSink)
	require.ErrorContains(t, err, `"nope"`)
	_, err = w.WatchDeliveries()
	require.ErrorIs(t, err, pipeline.ErrUnknownSink)
}

// The sink may handle the event before Emit returns or long before Wait
// is called: the watch, opened before Emit, still sees the outcome.
func TestDeliveryWatchOutcomeBeforeWait(t *testing.T) {
	t.Parallel()
	host, w := watchHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	watch, err := w.WatchDeliveries("a", "b")
	require.NoError(t, err)
	defer watch.Close()
	res, err := host.Emit(ctx, []pipeline.Event{{ID: "early", Type: "t", Data: []byte("ok")}})
	require.NoError(t, err)
	// Let both consumers handle it and move on past later events.
	for i := range 20 {
		_, err := host.Emit(ctx, []pipeline.Event{{ID: fmt.Sprintf("later-%d", i), Type: "for-b", Data: []byte("ok")}})
		require.NoError(t, err)
	}
	time.Sleep(100 * time.Millisecond)
	cs, err := watch.Wait(ctx, res.Last)
	require.NoError(t, err)
	assert.Equal(t, pipeline.OutcomeDelivered, cs[0].Outcome)
	assert.Equal(t, "result of early", string(cs[0].Result))
	assert.Equal(t, pipeline.OutcomeSkipped, cs[1].Outcome)
	_, err = watch.Wait(ctx, res.Last+1)
	require.Error(t, err, "a watch binds to one sequence")
	watch.Close()
	_, err = watch.Wait(ctx, res.Last)
	require.Error(t, err, "a closed watch cannot wait")
}

func TestDeliveryWatchConcurrent(t *testing.T) {
	t.Parallel()
	host, w := watchHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("c-%d", i)
			cs, err := emitWatched(ctx, host, w, pipeline.Event{ID: id, Type: "t", Data: []byte("ok")}, "a")
			switch {
			case err != nil:
				errs[i] = err
			case cs[0].Outcome != pipeline.OutcomeDelivered || string(cs[0].Result) != "result of "+id:
				errs[i] = fmt.Errorf("%s: got %s %q", id, cs[0].Outcome, cs[0].Result)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
}

func TestSetResultOutsideAConsumer(t *testing.T) {
	t.Parallel()
	assert.False(t, pipeline.SetResult(context.Background(), pipeline.Delivery{}, []byte("x")))
}

func TestDeliveryOutcomeString(t *testing.T) {
	t.Parallel()
	for o, want := range map[pipeline.DeliveryOutcome]string{
		pipeline.OutcomePending: "pending", pipeline.OutcomeDelivered: "delivered",
		pipeline.OutcomeDeadLettered: "dead-lettered", pipeline.OutcomeSkipped: "skipped",
	} {
		assert.Equal(t, want, o.String())
	}
}
