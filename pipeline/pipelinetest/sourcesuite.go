package pipelinetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// NewSourceFunc builds a fresh source for one subtest. Sources that listen
// must use an ephemeral port (127.0.0.1:0) so subtests can run in parallel.
type NewSourceFunc func(t *testing.T) pipeline.Source

// TestSource runs the pipeline.Source lifecycle suite as subtests of t:
// Run returns nil or context.Canceled promptly once its context is
// cancelled, both while running and when the context is cancelled before
// Run is called.
func TestSource(t *testing.T, newSource NewSourceFunc) {
	t.Helper()
	t.Run("StopsOnCancel", func(t *testing.T) {
		t.Parallel()
		src := newSource(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- src.Run(ctx, NewRecordingHost("source-under-test")) }()
		select {
		case err := <-done:
			t.Fatalf("Run returned before its context was cancelled: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		cancel()
		requireStopped(t, done)
	})
	t.Run("CancelledBeforeRun", func(t *testing.T) {
		t.Parallel()
		src := newSource(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		done := make(chan error, 1)
		go func() { done <- src.Run(ctx, NewRecordingHost("source-under-test")) }()
		requireStopped(t, done)
	})
}

func requireStopped(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			require.ErrorIs(t, err, context.Canceled, "Run must return nil or ctx.Err() when its context ends")
		}
	case <-time.After(suiteTimeout):
		t.Fatal("Run did not return after its context was cancelled")
	}
}
