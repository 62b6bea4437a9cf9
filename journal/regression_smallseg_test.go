package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// smallSegmentJournal returns a closed journal with 4 KiB pages whose
// newest segment, of at most 64 KiB, holds the acknowledged records 31-45.
func smallSegmentJournal(t *testing.T) (dir, newest string) {
	t.Helper()
	dir = t.TempDir()
	clock := newFakeClock()
	opts := journal.Options{SegmentMaxBytes: 32 << 10, SegmentMaxAge: time.Hour, Clock: clock}
	j, err := journal.Open(dir, opts)
	require.NoError(t, err)
	appendN(t, j, 2, 15)
	clock.Advance(2 * time.Hour)
	appendN(t, j, 1, 15)
	st := stats(t, j)
	closeJ(t, j)
	require.Len(t, st.Segments, 2)
	seg := st.Segments[1]
	require.Equal(t, uint64(31), seg.First)
	require.Equal(t, uint64(45), seg.Last)
	path := filepath.Join(dir, seg.Name)
	require.LessOrEqual(t, fileSizeOf(t, path), int64(64<<10), "the case the old size rule misjudged")
	return dir, path
}

func fileSizeOf(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

// TestOpenKeepsSmallNewestSegment: a newest segment of at most 64 KiB with
// 4 KiB pages that bolt.Open cannot open holds acknowledged records, so
// Open must neither delete it nor go on without it: a lock held elsewhere
// is transient (ErrResources), damaged meta pages are corruption, and in
// both cases the file stays as it was and, once the cause is gone, records
// 31-45 are all there.
func TestOpenKeepsSmallNewestSegment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		break_  func(t *testing.T, path string) (undo func())
		wantErr error
	}{
		{name: "segment file locked elsewhere", wantErr: journal.ErrResources, break_: func(t *testing.T, path string) func() {
			f, err := os.Open(path)
			require.NoError(t, err)
			require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
			return func() { require.NoError(t, f.Close()) }
		}},
		{name: "both meta pages damaged", wantErr: journal.ErrCorrupt, break_: func(t *testing.T, path string) func() {
			orig, err := os.ReadFile(path)
			require.NoError(t, err)
			bad := append([]byte(nil), orig...)
			for _, off := range []int{0, 4096} {
				bad[off+16+56] ^= 0xff // each meta's checksum
			}
			require.NoError(t, os.WriteFile(path, bad, 0o600))
			return func() { require.NoError(t, os.WriteFile(path, orig, 0o600)) }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, path := smallSegmentJournal(t)
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			undo := c.break_(t, path)

			_, err = journal.Open(dir, journal.Options{SegmentMaxBytes: 32 << 10})
			require.ErrorIs(t, err, c.wantErr)
			if !errors.Is(c.wantErr, journal.ErrCorrupt) {
				require.NotErrorIs(t, err, journal.ErrCorrupt, "a lack of resources is not corruption")
			}
			require.FileExists(t, path, "the segment is neither deleted nor moved aside")
			aside, _ := filepath.Glob(path + ".incomplete-*")
			require.Empty(t, aside)
			undo()
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, before, after, "Open wrote nothing to it")

			j := journaltest.MustOpenWith(t, dir, journal.Options{SegmentMaxBytes: 32 << 10})
			require.Equal(t, uint64(45), stats(t, j).Last)
			recs := journaltest.ReadAll(t, j, 31)
			require.Len(t, recs, 15, "records 31-45 survive")
			res, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(1)})
			require.NoError(t, err)
			assert.Equal(t, uint64(46), res.First, "no sequence is reused")
		})
	}
}

// TestOpenMovesTornSmallSegmentAside: a newest segment that is a torn
// bbolt initialisation (no valid meta, at most four pages) is moved aside
// with its bytes, not deleted, and the journal opens at the previous head.
func TestOpenMovesTornSmallSegmentAside(t *testing.T) {
	t.Parallel()
	dir, _ := smallSegmentJournal(t)
	torn := filepath.Join(dir, "00000000000000000046.seg")
	content := make([]byte, 8<<10)
	content[100] = 1 // not all zeros
	require.NoError(t, os.WriteFile(torn, content, 0o600))

	j := journaltest.MustOpenWith(t, dir, journal.Options{SegmentMaxBytes: 32 << 10})
	assert.Equal(t, uint64(45), stats(t, j).Last)
	require.NoFileExists(t, torn)
	aside, err := filepath.Glob(torn + ".incomplete-*")
	require.NoError(t, err)
	require.Len(t, aside, 1)
	got, err := os.ReadFile(aside[0])
	require.NoError(t, err)
	assert.Equal(t, content, got)
}
