package sourcesink_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/sourcesink"
)

// handlers is a SourceHandlers with one handler, "in", that fails with
// err.
type handlers struct {
	err error
	got [][]pipeline.Delivery
}

func (h *handlers) SourceHandler(name string) (pipeline.EventHandler, error) {
	switch name {
	case "in":
		return h, nil
	case "plain":
		return nil, pipeline.ErrNotEventHandler
	}
	return nil, pipeline.ErrUnknownSource
}

func (h *handlers) HandleEvents(_ context.Context, batch []pipeline.Delivery) error {
	h.got = append(h.got, batch)
	return h.err
}

func newSink(t *testing.T, h pipeline.SourceHandlers, source string) pipeline.Sink {
	t.Helper()
	set := pipeline.NopSettings("s")
	set.Sources = h
	s, err := sourcesink.NewFactory().NewSink(t.Context(), set, &sourcesink.Config{Source: source})
	require.NoError(t, err)
	return s
}

func TestDeliverHandsTheBatchOver(t *testing.T) {
	t.Parallel()
	transient := errors.New("source busy")
	for _, tc := range []struct {
		name, source string
		handlerErr   error
		permanent    bool
		provisionErr error
	}{
		{"ok", "in", nil, false, nil},
		{"transient", "in", transient, false, nil},
		{"unknown", "nope", nil, true, pipeline.ErrUnknownSource},
		{"not a handler", "plain", nil, true, pipeline.ErrNotEventHandler},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &handlers{err: tc.handlerErr}
			s := newSink(t, h, tc.source)
			err := s.(pipeline.Provisioner).Provision(t.Context())
			require.ErrorIs(t, err, tc.provisionErr)
			batch := []pipeline.Delivery{{Event: pipeline.Event{ID: "e1"}}}
			err = s.Deliver(t.Context(), batch)
			var pe *pipeline.PermanentError
			assert.Equal(t, tc.permanent, errors.As(err, &pe), "permanent: %v", err)
			if tc.source == "in" {
				require.ErrorIs(t, err, tc.handlerErr)
				assert.Equal(t, [][]pipeline.Delivery{batch}, h.got)
			}
			require.NoError(t, s.Close(t.Context()))
		})
	}
	var c sourcesink.Config
	require.Error(t, c.Validate(), "source is required")
}
