package journal_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

func flipRecord(t *testing.T, dir string, st pipeline.JournalStats, seq uint64) {
	t.Helper()
	rawUpdate(t, dir, segmentFor(t, st, seq), func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("records"))
		v := append([]byte(nil), b.Get(key(seq))...)
		v[len(v)-3] ^= 0x01
		return b.Put(key(seq), v)
	})
}

func TestRepair(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		tamper   func(t *testing.T, dir string, st pipeline.JournalStats)
		lastGood func(st pipeline.JournalStats) uint64
		noOpen   bool // the damage stops Open
	}{
		{
			name:     "damaged tail",
			tamper:   func(t *testing.T, dir string, st pipeline.JournalStats) { flipRecord(t, dir, st, st.Last-2) },
			lastGood: func(st pipeline.JournalStats) uint64 { return st.Last - 3 },
			noOpen:   true,
		},
		{
			name:     "flipped byte in a sealed segment",
			tamper:   func(t *testing.T, dir string, st pipeline.JournalStats) { flipRecord(t, dir, st, 321) },
			lastGood: func(pipeline.JournalStats) uint64 { return 320 },
		},
		{
			name: "deleted record",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) {
				rawUpdate(t, dir, segmentFor(t, st, 222), func(tx *bolt.Tx) error {
					return tx.Bucket([]byte("records")).Delete(key(222))
				})
			},
			lastGood: func(pipeline.JournalStats) uint64 { return 221 },
		},
		{
			name: "deleted middle segment",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) {
				require.NoError(t, os.Remove(filepath.Join(dir, st.Segments[2].Name)))
			},
			lastGood: func(st pipeline.JournalStats) uint64 { return st.Segments[2].First - 1 },
		},
		{
			name: "truncated middle segment",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) {
				path := filepath.Join(dir, st.Segments[1].Name)
				fi, err := os.Stat(path)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(path, fi.Size()/2))
			},
			lastGood: func(st pipeline.JournalStats) uint64 { return st.Segments[1].First - 1 },
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, st := buildJournal(t)
			j, err := journal.Open(dir, segOpts)
			require.NoError(t, err)
			_, err = j.Cursor(ctxT(t), "sink")
			require.NoError(t, err)
			require.NoError(t, j.CommitCursor(ctxT(t), "sink", st.Last+1))
			closeJ(t, j)
			c.tamper(t, dir, st)
			want := c.lastGood(st)

			if c.noOpen {
				_, err := journal.Open(dir, segOpts)
				require.ErrorIs(t, err, journal.ErrCorrupt, "the engine refuses a damaged tail")
			}
			plan, err := journal.Repair(ctxT(t), dir, journal.RepairOptions{DryRun: true})
			require.NoError(t, err)
			require.NotNil(t, plan.Damage)
			assert.Equal(t, want, plan.LastGood)
			assert.False(t, plan.Repaired)

			rep, err := journal.Repair(ctxT(t), dir, journal.RepairOptions{})
			require.NoError(t, err)
			assert.True(t, rep.Repaired)
			assert.Equal(t, want, rep.LastGood)
			require.NotEmpty(t, rep.Copied)
			for _, name := range rep.Copied {
				assert.FileExists(t, filepath.Join(rep.Backup, name), "a copy is kept")
			}

			j = journaltest.MustOpenWith(t, dir, segOpts)
			got := stats(t, j)
			assert.Equal(t, want, got.Last)
			_, err = j.Verify(ctxT(t), 0, 0)
			require.NoError(t, err)
			next, err := j.Cursor(ctxT(t), "sink")
			require.NoError(t, err)
			assert.Equal(t, want+1, next, "a cursor past the new head moves back to it")
			res, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: journaltest.Events(0, 3)})
			require.NoError(t, err)
			assert.Equal(t, want+1, res.First, "appends continue after the last good record")
			_, err = j.Verify(ctxT(t), 0, 0)
			require.NoError(t, err)
		})
	}
}

func TestRepairDeletedOldestSegmentRaisesFloor(t *testing.T) {
	t.Parallel()
	dir, st := buildJournal(t)
	require.NoError(t, os.Remove(filepath.Join(dir, st.Segments[0].Name)))
	rep, err := journal.Repair(ctxT(t), dir, journal.RepairOptions{})
	require.NoError(t, err)
	assert.Equal(t, st.Segments[1].First, rep.FloorRaised)
	assert.True(t, rep.Repaired)
	j := journaltest.MustOpenWith(t, dir, segOpts)
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	assert.Equal(t, st.Last, stats(t, j).Last, "nothing after the gap is lost")
}

func TestRepairIntactAndInUse(t *testing.T) {
	t.Parallel()
	dir, _ := buildJournal(t)
	rep, err := journal.Repair(ctxT(t), dir, journal.RepairOptions{})
	require.NoError(t, err)
	assert.Nil(t, rep.Damage)
	assert.False(t, rep.Repaired)
	j := journaltest.MustOpenWith(t, dir, segOpts)
	_, err = journal.Repair(ctxT(t), dir, journal.RepairOptions{})
	require.ErrorIs(t, err, journal.ErrInUse)
	closeJ(t, j)
	_, err = journal.Repair(ctxT(t), filepath.Join(dir, "nope"), journal.RepairOptions{})
	require.ErrorIs(t, err, journal.ErrNotFound)
}
