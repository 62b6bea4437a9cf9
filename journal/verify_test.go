package journal_test

import (
	"context"
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

var segOpts = journal.Options{SegmentMaxBytes: 32 << 10}

// buildJournal writes 1000 records over several segments and closes it.
func buildJournal(t *testing.T) (string, pipeline.JournalStats) {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(dir, segOpts)
	require.NoError(t, err)
	appendN(t, j, 100, 10)
	st := stats(t, j)
	require.GreaterOrEqual(t, len(st.Segments), 4)
	closeJ(t, j)
	return dir, st
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string, st pipeline.JournalStats) (seq uint64, segment string)
		reason string
	}{
		{
			name: "flipped payload byte",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) (uint64, string) {
				const seq = 123
				seg := segmentFor(t, st, seq)
				rawUpdate(t, dir, seg, func(tx *bolt.Tx) error {
					b := tx.Bucket([]byte("records"))
					v := append([]byte(nil), b.Get(key(seq))...)
					v[len(v)-3] ^= 0x01
					return b.Put(key(seq), v)
				})
				return seq, seg
			},
			reason: "crc mismatch",
		},
		{
			name: "flipped byte with recomputed crc",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) (uint64, string) {
				const seq = 321
				seg := segmentFor(t, st, seq)
				rawUpdate(t, dir, seg, func(tx *bolt.Tx) error {
					b := tx.Bucket([]byte("records"))
					v := append([]byte(nil), b.Get(key(seq))...)
					v[len(v)-1] ^= 0x80
					resealCRC(seq, v)
					return b.Put(key(seq), v)
				})
				return seq, seg
			},
			reason: "hash chain broken",
		},
		{
			name: "deleted record",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) (uint64, string) {
				const seq = 222
				seg := segmentFor(t, st, seq)
				rawUpdate(t, dir, seg, func(tx *bolt.Tx) error {
					return tx.Bucket([]byte("records")).Delete(key(seq))
				})
				return seq, seg
			},
			reason: "record missing",
		},
		{
			name: "deleted last record of a sealed segment",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) (uint64, string) {
				s := st.Segments[1]
				rawUpdate(t, dir, s.Name, func(tx *bolt.Tx) error {
					return tx.Bucket([]byte("records")).Delete(key(s.Last))
				})
				return s.Last, ""
			},
			reason: "missing",
		},
		{
			name: "deleted middle segment",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) (uint64, string) {
				s := st.Segments[2]
				require.NoError(t, os.Remove(filepath.Join(dir, s.Name)))
				return s.First, st.Segments[3].Name
			},
			reason: "missing (segment deleted?)",
		},
		{
			name: "truncated middle segment",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) (uint64, string) {
				s := st.Segments[1]
				path := filepath.Join(dir, s.Name)
				fi, err := os.Stat(path)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(path, fi.Size()/2))
				return s.First, s.Name
			},
			reason: "truncated",
		},
		{
			name: "deleted oldest segment",
			tamper: func(t *testing.T, dir string, st pipeline.JournalStats) (uint64, string) {
				require.NoError(t, os.Remove(filepath.Join(dir, st.Segments[0].Name)))
				return 1, st.Segments[1].Name
			},
			reason: "deleted outside retention",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, st := buildJournal(t)
			seq, seg := c.tamper(t, dir, st)
			j, err := journal.Open(dir, journal.Options{ReadOnly: true})
			require.NoError(t, err, "damage away from the tail does not stop Open")
			defer closeJ(t, j)
			_, err = j.Verify(context.Background(), 0, 0)
			require.ErrorIs(t, err, journal.ErrCorrupt)
			var ce *journal.CorruptionError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, seq, ce.Seq, "%v", err)
			if seg != "" {
				assert.Equal(t, seg, ce.Segment, "%v", err)
			}
			assert.Contains(t, err.Error(), c.reason)
		})
	}
}

func TestVerifyRange(t *testing.T) {
	t.Parallel()
	dir, st := buildJournal(t)
	j := journaltest.MustOpenWith(t, dir, segOpts)
	rep, err := j.Verify(ctxT(t), 250, 750)
	require.NoError(t, err)
	assert.Equal(t, uint64(250), rep.First)
	assert.Equal(t, uint64(750), rep.Last)
	assert.Equal(t, uint64(501), rep.Records)
	full, err := j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	assert.Equal(t, st.HeadHash, full.HeadHash)
	assert.Equal(t, uint64(1000), full.Records)
}

func TestReadReportsCorruptRecord(t *testing.T) {
	t.Parallel()
	dir, st := buildJournal(t)
	seg := segmentFor(t, st, 50)
	rawUpdate(t, dir, seg, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("records"))
		v := append([]byte(nil), b.Get(key(50))...)
		v[60] ^= 0xff
		return b.Put(key(50), v)
	})
	j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
	_, err := j.Read(ctxT(t), 45, pipeline.ReadLimit{})
	require.ErrorIs(t, err, journal.ErrCorrupt)
	var ce *journal.CorruptionError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, uint64(50), ce.Seq)
	_ = j.Close(context.Background()) // before MustOpen's cleanup verify
}
