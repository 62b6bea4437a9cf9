package natsjournal_test

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestConformance runs the journal contract against the nats backend as
// the engine opens it (journal.ReadWrite: the bbolt journal with its
// forwarder publishing to an in-process server). Every case applies:
// the forwarder is one more consumer of the journal (its cursor
// sluice:fleet), so no case is skipped.
//
// A case's journal lives for milliseconds and its forwarder is closed
// with it, holding its backlog locally as designed; how much of the
// cases' records reach the stream therefore depends on the machine's
// load (a CI run at load 20 under -race once saw too few). So the stream
// is only reported after the suite, and forwarding is then proved on the
// same server by one more journal that lives until its records are
// stored.
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
	var stored uint64
	if s, err := js.Stream(t.Context(), fleet.DefaultStreamName); err == nil {
		info, err := s.Info(t.Context())
		require.NoError(t, err)
		stored = info.State.Msgs
		t.Logf("the forwarders of %d journals published %d records on %d subjects while the cases ran",
			n.Load(), stored, info.State.NumSubjects)
	}
	j := open(t, agentConfig(t.TempDir(), srv.URL(), "after-suite"), pipeline.Settings{})
	defer closeStore(t, j)
	const records = 150
	appendN(t, j, records)
	got := waitStream(t, js, int(stored)+records)
	var mine int
	for _, in := range got {
		if in.Agent == "after-suite" {
			mine++
		}
	}
	require.Equal(t, records, mine, "the journal opened after the suite forwards each of its records once")
}
