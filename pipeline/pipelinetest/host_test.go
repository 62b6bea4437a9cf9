package pipelinetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

func TestRecordingHostRecordsLikeAJournal(t *testing.T) {
	t.Parallel()
	h := pipelinetest.NewRecordingHost("web")
	ctx := t.Context()
	in := []pipeline.Event{{ID: "a", Source: "/x", Type: "t"}, {Type: "t"}}
	res, err := h.Emit(ctx, in, pipeline.SourceStateUpdate("web", "k", []byte("v")))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), res.First)
	assert.Equal(t, uint64(2), res.Last)
	assert.Empty(t, in[1].ID, "the caller's events are not modified")

	res, err = h.Emit(ctx, []pipeline.Event{{ID: "c", Source: "/x", Type: "t"}})
	require.NoError(t, err)
	assert.Equal(t, uint64(3), res.First)

	got := h.Events()
	require.Len(t, got, 3)
	assert.Equal(t, "a", got[0].ID)
	assert.Equal(t, "rec-2", got[1].ID)
	assert.Equal(t, "/sluice/sources/web", got[1].Source)
	assert.Equal(t, "web", got[2].Origin)
	assert.False(t, got[1].Time.IsZero())
	assert.Len(t, h.Batches(), 2)
	assert.Equal(t, 2, h.Calls())

	state, err := h.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"k": []byte("v")}, state)
	_, err = h.Emit(ctx, nil, pipeline.StateUpdate{Key: "k", Delete: true})
	require.NoError(t, err)
	state, err = h.State(ctx)
	require.NoError(t, err)
	assert.Empty(t, state)
}

func TestRecordingHostFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		arrange func(h *pipelinetest.RecordingHost) context.Context
		wantErr error
	}{
		{
			name: "journal full",
			arrange: func(h *pipelinetest.RecordingHost) context.Context {
				h.SetError(pipeline.ErrJournalFull)
				return context.Background()
			},
			wantErr: pipeline.ErrJournalFull,
		},
		{
			name: "hook error",
			arrange: func(h *pipelinetest.RecordingHost) context.Context {
				h.SetHook(func(context.Context, []pipeline.Event) error { return pipeline.ErrJournalClosed })
				return context.Background()
			},
			wantErr: pipeline.ErrJournalClosed,
		},
		{
			name: "cancelled context",
			arrange: func(*pipelinetest.RecordingHost) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := pipelinetest.NewRecordingHost("web")
			ctx := tt.arrange(h)
			_, err := h.Emit(ctx, []pipeline.Event{{ID: "a", Source: "/x", Type: "t"}})
			require.ErrorIs(t, err, tt.wantErr)
			assert.Empty(t, h.Events(), "a failed emit records nothing")
			assert.Equal(t, 1, h.Calls())
		})
	}
}

func TestRecordingHostWaitForEvents(t *testing.T) {
	t.Parallel()
	h := pipelinetest.NewRecordingHost("web")
	release := make(chan struct{})
	h.SetHook(func(ctx context.Context, _ []pipeline.Event) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := h.Emit(t.Context(), []pipeline.Event{{ID: "a", Source: "/x", Type: "t"}})
		done <- err
	}()

	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := h.WaitForEvents(short, 1)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the hook holds the emit")

	close(release)
	got, err := h.WaitForEvents(t.Context(), 1)
	require.NoError(t, err)
	assert.Len(t, got, 1)
	require.NoError(t, <-done)
}
