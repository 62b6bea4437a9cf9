package journal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	journaltest.RunConformance(t, func(t *testing.T, dir string) pipeline.Journal {
		j, err := journal.Open(dir, journal.Options{})
		require.NoError(t, err)
		return j
	})
}

// TestConformanceSmallSegments runs the suite with segments so small that
// most cases cross segment boundaries.
func TestConformanceSmallSegments(t *testing.T) {
	t.Parallel()
	journaltest.RunConformance(t, func(t *testing.T, dir string) pipeline.Journal {
		j, err := journal.Open(dir, journal.Options{SegmentMaxBytes: 32 << 10})
		require.NoError(t, err)
		return j
	})
}
