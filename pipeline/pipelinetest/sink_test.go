package pipelinetest_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

func TestRecordingSinkConformance(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSink(t, func(*testing.T) (pipeline.Sink, func() []pipeline.Event) {
		s := pipelinetest.NewRecordingSink()
		return s, s.Events
	})
}

func TestRecordingSinkScript(t *testing.T) {
	t.Parallel()
	s := pipelinetest.NewRecordingSink()
	ctx := t.Context()
	batch := pipelinetest.SampleDeliveries(1, 2)
	require.ErrorIs(t, s.Deliver(ctx, batch), pipelinetest.ErrNotStarted)
	require.NoError(t, s.Start(ctx))

	boom := errors.New("boom")
	s.Script(boom, nil)
	s.SetError(pipeline.Permanent(boom))
	require.ErrorIs(t, s.Deliver(ctx, batch), boom, "first scripted result")
	require.NoError(t, s.Deliver(ctx, batch), "second scripted result")
	err := s.Deliver(ctx, batch)
	require.True(t, pipeline.IsPermanent(err), "SetError applies after the script: %v", err)
	s.SetError(nil)
	require.NoError(t, s.Deliver(ctx, batch))

	assert.Equal(t, 5, s.Calls(), "including the refused first call")
	assert.Len(t, s.Batches(), 2)
	got, err := s.WaitForDeliveries(ctx, 4)
	require.NoError(t, err)
	assert.Equal(t, batch[0].Key, got[0].Key)

	require.NoError(t, s.Close(ctx))
	require.ErrorIs(t, s.Deliver(ctx, batch), pipelinetest.ErrNotStarted)
	assert.Equal(t, 1, s.Started())
	assert.Equal(t, 1, s.Closed())
}

// jsonLinesSink is the smallest real sink: JSON lines in memory. It checks
// that DecodeJSONLines reads back everything the suite compares.
type jsonLinesSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *jsonLinesSink) Start(context.Context) error { return nil }
func (s *jsonLinesSink) Close(context.Context) error { return nil }

func (s *jsonLinesSink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range batch {
		b, err := pipeline.MarshalCloudEventJSON(&d.Event)
		if err != nil {
			return pipeline.Permanent(err)
		}
		s.buf.Write(append(b, '\n'))
	}
	return nil
}

func (s *jsonLinesSink) events(t *testing.T) []pipeline.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs, err := pipelinetest.DecodeJSONLines(s.buf.Bytes())
	require.NoError(t, err)
	return evs
}

func TestSinkSuiteWithJSONLines(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSink(t, func(t *testing.T) (pipeline.Sink, func() []pipeline.Event) {
		s := &jsonLinesSink{}
		return s, func() []pipeline.Event { return s.events(t) }
	})
}

func TestDecodeJSONLines(t *testing.T) {
	t.Parallel()
	want := pipelinetest.EventsOf(pipelinetest.SampleDeliveries(1, 3))
	var buf bytes.Buffer
	for i := range want {
		b, err := pipeline.MarshalCloudEventJSON(&want[i])
		require.NoError(t, err)
		buf.Write(append(b, '\n'))
	}
	got, err := pipelinetest.DecodeJSONLines(buf.Bytes())
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i := range want {
		assert.Equal(t, want[i].Sequence, got[i].Sequence)
		assert.Equal(t, want[i].Data, got[i].Data)
		assert.True(t, want[i].Time.Equal(got[i].Time))
	}

	_, err = pipelinetest.DecodeJSONLines([]byte("{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\"}\nnot json\n"))
	require.ErrorContains(t, err, "line 2")
	_, err = pipelinetest.DecodeJSONLines([]byte(`{"specversion":"1.0","id":"a","source":"/s","type":"t","sequence":"x"}`))
	require.ErrorContains(t, err, "sequence")
}
