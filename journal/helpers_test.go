package journal_test

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// fakeClock is a settable clock whose timers never fire, so tests drive
// rotation and retention by appends and Close.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) NewTimer(time.Duration) pipeline.Timer { return fakeTimer{} }

type fakeTimer struct{}

func (fakeTimer) C() <-chan time.Time      { return nil }
func (fakeTimer) Stop() bool               { return true }
func (fakeTimer) Reset(time.Duration) bool { return true }

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// payload256 returns events whose encoding is about 256 bytes.
func payload256(n int) []pipeline.Event {
	evs := journaltest.Events(0, n)
	for i := range evs {
		evs[i].ID = "01900000-0000-7000-8000-000000000000"
		evs[i].Data = make([]byte, 160)
	}
	return evs
}

func appendN(t testing.TB, j *journal.Journal, batches, size int) {
	t.Helper()
	for range batches {
		_, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(size)})
		require.NoError(t, err)
	}
}

func stats(t testing.TB, j *journal.Journal) pipeline.JournalStats {
	t.Helper()
	st, err := j.Stats(ctxT(t))
	require.NoError(t, err)
	return st
}

func closeJ(t testing.TB, j *journal.Journal) {
	t.Helper()
	require.NoError(t, j.Close(context.Background()))
}

// rawUpdate modifies a closed journal's segment file directly.
func rawUpdate(t testing.TB, dir, segment string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, segment), 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(fn))
	require.NoError(t, db.Close())
}

func key(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// resealCRC recomputes a record value's CRC after a test modified it, so
// that only the hash chain can catch the change.
func resealCRC(seq uint64, v []byte) {
	crc := crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), v[5:])
	crc = crc32.Update(crc, crc32.MakeTable(crc32.Castagnoli), key(seq))
	binary.BigEndian.PutUint32(v[1:5], crc)
}

// segmentFor returns the name of the segment holding seq.
func segmentFor(t testing.TB, st pipeline.JournalStats, seq uint64) string {
	t.Helper()
	for _, s := range st.Segments {
		if s.First <= seq && seq <= s.Last {
			return s.Name
		}
	}
	t.Fatalf("no segment holds seq %d", seq)
	return ""
}
