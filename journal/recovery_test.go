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

func TestOpenReportsDamagedTail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tamper func(tx *bolt.Tx, last uint64) error
		seq    func(last uint64) uint64
	}{
		{"crc of last record", func(tx *bolt.Tx, last uint64) error {
			b := tx.Bucket([]byte("records"))
			v := append([]byte(nil), b.Get(key(last))...)
			v[50] ^= 1
			return b.Put(key(last), v)
		}, func(last uint64) uint64 { return last }},
		{"chain link near the tail", func(tx *bolt.Tx, last uint64) error {
			b := tx.Bucket([]byte("records"))
			v := append([]byte(nil), b.Get(key(last-3))...)
			v[len(v)-1] ^= 1
			resealCRC(last-3, v)
			return b.Put(key(last-3), v)
		}, func(last uint64) uint64 { return last - 3 }},
		{"gap near the tail", func(tx *bolt.Tx, last uint64) error {
			return tx.Bucket([]byte("records")).Delete(key(last - 2))
		}, func(last uint64) uint64 { return last - 2 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			j, err := journal.Open(dir, journal.Options{})
			require.NoError(t, err)
			appendN(t, j, 3, 10)
			st := stats(t, j)
			closeJ(t, j)
			rawUpdate(t, dir, st.Segments[len(st.Segments)-1].Name, func(tx *bolt.Tx) error { return c.tamper(tx, st.Last) })
			for _, ro := range []bool{false, true} {
				_, err = journal.Open(dir, journal.Options{ReadOnly: ro})
				require.ErrorIs(t, err, journal.ErrCorrupt)
				var ce *journal.CorruptionError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, c.seq(st.Last), ce.Seq, "%v", err)
			}
		})
	}
}

func TestOpenRemovesIncompleteSegment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		create func(t *testing.T, path string)
	}{
		{"empty file", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, nil, 0o600))
		}},
		{"bbolt file without meta", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, db.Close())
		}},
		{"partial bbolt header", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, make([]byte, 100), 0o600))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			j, err := journal.Open(dir, journal.Options{})
			require.NoError(t, err)
			appendN(t, j, 2, 5)
			closeJ(t, j)
			path := filepath.Join(dir, "00000000000000000011.seg")
			c.create(t, path)

			ro, err := journal.Open(dir, journal.Options{ReadOnly: true})
			require.NoError(t, err, "a read-only open ignores it")
			assert.Equal(t, uint64(10), stats(t, ro).Last)
			closeJ(t, ro)
			require.FileExists(t, path, "read-only opens write nothing")

			j = journaltest.MustOpenWith(t, dir, journal.Options{})
			require.NoFileExists(t, path)
			aside, err := filepath.Glob(path + ".incomplete-*")
			require.NoError(t, err)
			require.Len(t, aside, 1, "the incomplete file is moved aside, not deleted")
			res, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(1)})
			require.NoError(t, err)
			assert.Equal(t, uint64(11), res.First)
		})
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := journal.Open(filepath.Join(dir, "none"), journal.Options{ReadOnly: true})
	require.ErrorIs(t, err, journal.ErrNotFound)
	_, err = journal.Open(dir, journal.Options{ReadOnly: true})
	require.ErrorIs(t, err, journal.ErrNotFound)

	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	appendN(t, j, 1, 5)
	require.NoError(t, j.CommitCursor(ctxT(t), "sink", 3))
	closeJ(t, j)
	before := dirListing(t, dir)

	ro := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
	_, err = ro.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(1)})
	require.ErrorIs(t, err, journal.ErrReadOnly)
	require.ErrorIs(t, ro.CommitCursor(ctxT(t), "sink", 4), journal.ErrReadOnly)
	require.ErrorIs(t, ro.DeleteCursor(ctxT(t), "sink"), journal.ErrReadOnly)
	next, err := ro.Cursor(ctxT(t), "sink")
	require.NoError(t, err)
	assert.Equal(t, uint64(3), next)
	next, err = ro.Cursor(ctxT(t), "new")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), next)
	assert.NotContains(t, stats(t, ro).Cursors, "new", "read-only does not register")
	assert.Len(t, journaltest.ReadAll(t, ro, 1), 5)
	closeJ(t, ro)
	assert.Equal(t, before, dirListing(t, dir))
}

func dirListing(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]int64{}
	for _, e := range entries {
		fi, err := e.Info()
		require.NoError(t, err)
		out[e.Name()] = fi.Size()
		if e.Name() != "LOCK" {
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), e.Name())
		}
	}
	return out
}

func TestDirectoryModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "j")
	journaltest.MustOpenWith(t, dir, journal.Options{})
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	for _, name := range []string{"LOCK", "00000000000000000001.seg"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
}
