package journal_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
)

// A rotation torn by power loss after bbolt set the size of a new segment
// with 16 KiB pages but before its pages were written is an incomplete
// segment, removed on open, not damage.
func TestOpenRemovesTornSegmentWithLargePages(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	appendN(t, j, 1, 10)
	closeJ(t, j)
	// a rotation's bbolt init (4 x 16 KiB pages) torn by power loss: size set, pages not written
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000011.seg"), make([]byte, 64<<10), 0o600))
	j, err = journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	closeJ(t, j)
}
