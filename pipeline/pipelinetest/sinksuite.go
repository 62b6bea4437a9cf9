package pipelinetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// NewSinkFunc builds a fresh, unstarted sink for one subtest, with a
// function that reads back the events the sink has delivered so far, in
// order, from wherever the sink put them (a file, a buffer, a fake peer).
// Use t.Cleanup for anything that must be released.
//
// The read-back events must carry the ID; every other field that the
// read-back fills (non-zero) is compared with what was delivered, so lossy
// sinks can leave fields empty.
type NewSinkFunc func(t *testing.T) (pipeline.Sink, func() []pipeline.Event)

// suiteTimeout bounds every call the suites make into a component.
const suiteTimeout = 10 * time.Second

// TestSink runs the pipeline.Sink conformance suite as subtests of t:
//
//   - Close is safe without Start, and twice;
//   - an empty (or nil) batch succeeds and delivers nothing;
//   - events are delivered in order, across batches, with their attributes
//     and data;
//   - Deliver does not keep the caller's data buffers;
//   - duplicates (a retried batch) are accepted;
//   - Deliver with a cancelled context returns promptly with an error
//     matching context.Canceled, and the sink stays usable.
func TestSink(t *testing.T, newSink NewSinkFunc) {
	t.Helper()
	t.Run("CloseWithoutStart", func(t *testing.T) {
		t.Parallel()
		sink, _ := newSink(t)
		ctx := testContext(t)
		require.NoError(t, sink.Close(ctx), "first close")
		require.NoError(t, sink.Close(ctx), "second close")
	})
	t.Run("StartCloseTwice", func(t *testing.T) {
		t.Parallel()
		sink, _ := newSink(t)
		ctx := testContext(t)
		require.NoError(t, sink.Start(ctx))
		require.NoError(t, sink.Close(ctx), "first close")
		require.NoError(t, sink.Close(ctx), "second close")
	})
	t.Run("EmptyBatch", func(t *testing.T) {
		t.Parallel()
		sink, readBack := startSink(t, newSink)
		ctx := testContext(t)
		require.NoError(t, sink.Deliver(ctx, nil), "nil batch")
		require.NoError(t, sink.Deliver(ctx, []pipeline.Delivery{}), "empty batch")
		assert.Empty(t, readBack())
	})
	t.Run("OrderPreserved", func(t *testing.T) {
		t.Parallel()
		sink, readBack := startSink(t, newSink)
		ctx := testContext(t)
		all := SampleDeliveries(1, 16)
		for _, batch := range [][]pipeline.Delivery{all[:1], all[1:6], all[6:]} {
			require.NoError(t, sink.Deliver(ctx, batch))
		}
		requireDelivered(t, EventsOf(all), readBack())
	})
	t.Run("DataNotRetained", func(t *testing.T) {
		t.Parallel()
		sink, readBack := startSink(t, newSink)
		ctx := testContext(t)
		batch := SampleDeliveries(1, 4)
		want := EventsOf(SampleDeliveries(1, 4))
		require.NoError(t, sink.Deliver(ctx, batch))
		for i := range batch {
			for j := range batch[i].Event.Data {
				batch[i].Event.Data[j] = 'X'
			}
		}
		requireDelivered(t, want, readBack())
	})
	t.Run("DuplicatesAccepted", func(t *testing.T) {
		t.Parallel()
		sink, readBack := startSink(t, newSink)
		ctx := testContext(t)
		batch := SampleDeliveries(7, 3)
		require.NoError(t, sink.Deliver(ctx, batch))
		require.NoError(t, sink.Deliver(ctx, batch), "a retried batch must be accepted")
		got := readBack()
		require.NotEmpty(t, got)
		// A sink may deduplicate by key; what it delivered last must be
		// the batch.
		requireDelivered(t, EventsOf(batch), got[len(got)-min(len(got), len(batch)):])
	})
	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		sink, readBack := startSink(t, newSink)
		ctx, cancel := context.WithCancel(testContext(t))
		cancel()
		done := make(chan error, 1)
		go func() { done <- sink.Deliver(ctx, SampleDeliveries(1, 3)) }()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled, "Deliver with a cancelled context")
		case <-time.After(suiteTimeout):
			t.Fatal("Deliver did not return after its context was cancelled")
		}
		next := SampleDeliveries(4, 2)
		require.NoError(t, sink.Deliver(testContext(t), next), "the sink must stay usable")
		got := readBack()
		// The cancelled batch may have been delivered (at least once), but
		// the later batch must come last and complete.
		require.GreaterOrEqual(t, len(got), len(next))
		requireDelivered(t, EventsOf(next), got[len(got)-len(next):])
	})
}

func startSink(t *testing.T, newSink NewSinkFunc) (pipeline.Sink, func() []pipeline.Event) {
	t.Helper()
	sink, readBack := newSink(t)
	require.NoError(t, sink.Start(testContext(t)), "start")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), suiteTimeout)
		defer cancel()
		assert.NoError(t, sink.Close(ctx), "close")
	})
	return sink, readBack
}

// testContext returns a context that ends with the test or after
// suiteTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), suiteTimeout)
	t.Cleanup(cancel)
	return ctx
}

// requireDelivered compares read-back events with what was delivered: IDs
// always, every other field when the read-back filled it.
func requireDelivered(t *testing.T, want, got []pipeline.Event) {
	t.Helper()
	require.Len(t, got, len(want), "delivered event count")
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.ID, g.ID, "event %d: id (order not preserved?)", i)
		var errs []error
		check := func(name string, filled, equal bool) {
			if filled && !equal {
				errs = append(errs, errors.New(name))
			}
		}
		check("sequence", g.Sequence != 0, g.Sequence == w.Sequence)
		check("source", g.Source != "", g.Source == w.Source)
		check("type", g.Type != "", g.Type == w.Type)
		check("subject", g.Subject != "", g.Subject == w.Subject)
		check("time", !g.Time.IsZero(), g.Time.Equal(w.Time))
		check("datacontenttype", g.DataContentType != "", g.DataContentType == w.DataContentType)
		check("data", g.Data != nil, bytes.Equal(g.Data, w.Data))
		check("severity", g.Severity != pipeline.SeverityInfo, g.Severity == w.Severity)
		check("traceparent", g.TraceParent != "", g.TraceParent == w.TraceParent)
		for k, v := range g.Extensions {
			check("extension "+k, true, w.Extensions[k] == v)
		}
		require.NoError(t, errors.Join(errs...), "event %d (%s) differs:\nwant %+v\n got %+v", i, w.ID, w, g)
	}
}
