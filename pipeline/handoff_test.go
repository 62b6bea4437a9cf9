package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// handlerSource emits what the test sends on emit and hands the batches
// routes deliver to it to got.
type handlerSource struct {
	emit chan pipeline.Event
	got  chan []pipeline.Delivery
}

func (s *handlerSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	for {
		select {
		case e := <-s.emit:
			if _, err := host.Emit(ctx, []pipeline.Event{e}); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}

func (s *handlerSource) HandleEvents(_ context.Context, batch []pipeline.Delivery) error {
	s.got <- slices.Clone(batch) // Deliver's batch is the runner's to reuse
	return nil
}

// forwardSink hands its deliveries to the source it names, as the
// `source` sink does.
type forwardSink struct {
	to      string
	sources pipeline.SourceHandlers
}

func (s *forwardSink) Provision(context.Context) error {
	_, err := s.sources.SourceHandler(s.to)
	return err
}
func (s *forwardSink) Start(context.Context) error { return nil }
func (s *forwardSink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	h, err := s.sources.SourceHandler(s.to)
	if err != nil {
		return pipeline.Permanent(err)
	}
	return h.HandleEvents(ctx, batch)
}
func (s *forwardSink) Close(context.Context) error { return nil }

type forwardConfig struct{ To string }

func (*forwardConfig) Validate() error { return nil }

func handoffRegistries(t *testing.T, src *handlerSource) pipeline.Registries {
	t.Helper()
	srcReg, err := pipeline.NewRegistry(
		pipeline.NewSourceFactory("handler", func() *emptyConfig { return &emptyConfig{} },
			func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) { return src, nil }),
		pipeline.NewSourceFactory("plain", func() *emptyConfig { return &emptyConfig{} },
			func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) {
				return &hostSource{host: make(chan pipeline.SourceHost, 1)}, nil
			}))
	require.NoError(t, err)
	snkReg, err := pipeline.NewRegistry(pipeline.NewSinkFactory("forward", func() *forwardConfig { return &forwardConfig{} },
		func(_ context.Context, set pipeline.Settings, c *forwardConfig) (pipeline.Sink, error) {
			return &forwardSink{to: c.To, sources: set.Sources}, nil
		}))
	require.NoError(t, err)
	return pipeline.Registries{Sources: srcReg, Sinks: snkReg}
}

// A route delivers a source's event, through a sink that asks
// Settings.Sources, to a source of the same pipeline that takes events.
func TestRouteDeliversToASource(t *testing.T) {
	t.Parallel()
	src := &handlerSource{emit: make(chan pipeline.Event, 1), got: make(chan []pipeline.Delivery, 1)}
	h := newHarness(t)
	h.regs = handoffRegistries(t, src)
	h.start(pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "handler", Config: &emptyConfig{}}},
		Sinks:   []pipeline.SinkSpec{{Name: "to-in", Type: "forward", Config: &forwardConfig{To: "in"}}},
		Routes:  []pipeline.RouteSpec{{Name: "loop", From: []string{"in"}, To: []string{"to-in"}, Match: typeMatch("ask")}},
	})
	src.emit <- pipeline.Event{ID: "e1", Type: "ask", Data: []byte(`{}`)}
	select {
	case batch := <-src.got:
		require.Len(t, batch, 1)
		assert.Equal(t, "e1", batch[0].Event.ID)
		assert.Equal(t, "loop", batch[0].Route)
	case <-time.After(10 * time.Second):
		t.Fatal("the source was not handed the event")
	}
}

// Provision (sluice validate) reports a sink naming a source that does
// not exist or takes no events.
func TestSourceHandlerErrors(t *testing.T) {
	t.Parallel()
	regs := handoffRegistries(t, &handlerSource{})
	for _, tc := range []struct {
		to   string
		want error
	}{{"in", nil}, {"nope", pipeline.ErrUnknownSource}, {"plain", pipeline.ErrNotEventHandler}} {
		t.Run(tc.to, func(t *testing.T) {
			err := pipeline.Provision(t.Context(), pipeline.Spec{
				Sources: []pipeline.SourceSpec{{Name: "in", Type: "handler", Config: &emptyConfig{}}, {Name: "plain", Type: "plain", Config: &emptyConfig{}}},
				Sinks:   []pipeline.SinkSpec{{Name: "fwd", Type: "forward", Config: &forwardConfig{To: tc.to}}},
			}, regs, pipeline.NopSettings("test"))
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", tc.to))
		})
	}
	_, err := pipeline.NopSettings("x").WithDefaults().Sources.SourceHandler("in")
	require.ErrorIs(t, err, pipeline.ErrUnknownSource, "outside a pipeline no source is known")
}
