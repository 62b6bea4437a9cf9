package natsjournal_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestConformance runs the journal contract against the nats backend as
// the engine opens it (journal.ReadWrite: the bbolt journal with its
// forwarder publishing to an in-process server). Every case applies:
// the forwarder is one more consumer of the journal (its cursor
// sluice:fleet), so no case is skipped. Afterwards the stream holds what
// the cases appended, so the forwarder ran alongside them.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	var n atomic.Int64
	t.Run("suite", func(t *testing.T) {
		journaltest.RunConformance(t, func(t *testing.T, dir string) pipeline.Journal {
			n.Add(1)
			return open(t, agentConfig(dir, srv.URL(), ""), pipeline.Settings{})
		})
	})
	require.Positive(t, n.Load())
	js := connect(t, srv.URL())
	s, err := js.Stream(t.Context(), "SLUICE_FLEET")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := s.Info(t.Context())
		return err == nil && info.State.Msgs > 100 && info.State.NumSubjects >= 5
	}, 20*time.Second, 20*time.Millisecond, "the forwarders of %d journals published", n.Load())
}
