package journal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

var dlBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// letter returns a dead letter for sink and seq whose LastAt is dlBase
// plus minutes.
func letter(sink string, seq uint64, reason string, minutes int) pipeline.DeadLetter {
	return pipeline.DeadLetter{
		Sink: sink, Route: "r-" + sink, Seq: seq, Key: fmt.Sprintf("key-%s-%d", sink, seq), Reason: reason,
		Event: pipeline.Event{
			ID: fmt.Sprintf("ev-%d", seq), Source: "/test", Type: "test.dl", Subject: "s", Time: dlBase,
			DataContentType: "application/json", Data: []byte(`{"n":1}`), Severity: pipeline.SeverityWarning,
			Extensions: map[string]string{"team": "a"}, Origin: "in", Sequence: seq,
		},
		Attempts: 3, FirstError: "first: status 400 Bad Request", LastError: "last: status 400 Bad Request",
		FirstAt: dlBase, LastAt: dlBase.Add(time.Duration(minutes) * time.Minute),
	}
}

// sampleLetters are stored out of order on purpose; want lists them in
// (sink, seq) order: "a" < "ab" < "b" bytewise.
func sampleLetters() []pipeline.DeadLetter {
	ls := []pipeline.DeadLetter{
		letter("b", 2, pipeline.ReasonRetriesExhausted, 30),
		letter("a", 10, pipeline.ReasonPermanent, 10),
		letter("ab", 1, pipeline.ReasonTransformFailed, 20),
		letter("a", 2, pipeline.ReasonPermanent, 0),
		letter("b", 1, pipeline.ReasonPermanent, 40),
	}
	ls[2].LastError = "transform: no such field"
	ls[4].RedriveRequested = true
	return ls
}

func openDL(t *testing.T, dir string, readOnly bool) *journal.Journal {
	t.Helper()
	j, err := journal.Open(dir, journal.Options{ReadOnly: readOnly})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	return j
}

// ids lists the letters f selects as "sink/seq".
func ids(t *testing.T, j *journal.Journal, f pipeline.DeadLetterFilter) []string {
	t.Helper()
	out := []string{}
	require.NoError(t, j.DeadLetters(ctxT(t), f, func(l pipeline.DeadLetter) error {
		out = append(out, fmt.Sprintf("%s/%d", l.Sink, l.Seq))
		return nil
	}))
	return out
}

func TestDeadLettersFilter(t *testing.T) {
	t.Parallel()
	j := openDL(t, t.TempDir(), false)
	require.NoError(t, j.PutDeadLetters(ctxT(t), sampleLetters()))
	tests := []struct {
		name string
		f    pipeline.DeadLetterFilter
		want []string
	}{
		{name: "all in sink then seq order", want: []string{"a/2", "a/10", "ab/1", "b/1", "b/2"}},
		{name: "sink", f: pipeline.DeadLetterFilter{Sink: "a"}, want: []string{"a/2", "a/10"}},
		{name: "sink is not a prefix match", f: pipeline.DeadLetterFilter{Sink: "ab"}, want: []string{"ab/1"}},
		{name: "unknown sink", f: pipeline.DeadLetterFilter{Sink: "zz"}, want: []string{}},
		{name: "reason case-insensitive", f: pipeline.DeadLetterFilter{Reason: "PERM"}, want: []string{"a/2", "a/10", "b/1"}},
		{name: "reason matches last error", f: pipeline.DeadLetterFilter{Reason: "No Such Field"}, want: []string{"ab/1"}},
		{name: "since", f: pipeline.DeadLetterFilter{Since: dlBase.Add(20 * time.Minute)}, want: []string{"ab/1", "b/1", "b/2"}},
		{name: "until", f: pipeline.DeadLetterFilter{Until: dlBase.Add(10 * time.Minute)}, want: []string{"a/2", "a/10"}},
		{name: "since and until", f: pipeline.DeadLetterFilter{Since: dlBase.Add(5 * time.Minute), Until: dlBase.Add(25 * time.Minute)}, want: []string{"a/10", "ab/1"}},
		{name: "seqs across sinks", f: pipeline.DeadLetterFilter{Seqs: []uint64{1}}, want: []string{"ab/1", "b/1"}},
		{name: "sink and seqs", f: pipeline.DeadLetterFilter{Sink: "a", Seqs: []uint64{10, 2, 10, 99}}, want: []string{"a/2", "a/10"}},
		{name: "only redrive requested", f: pipeline.DeadLetterFilter{OnlyRedriveRequested: true}, want: []string{"b/1"}},
		{name: "everything at once", f: pipeline.DeadLetterFilter{Sink: "b", Reason: "permanent", Since: dlBase, Seqs: []uint64{1, 2}}, want: []string{"b/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, ids(t, j, tt.f))
		})
	}
}

func TestDeadLettersRoundTripAndReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openDL(t, dir, false)
	in := letter("out", 7, pipeline.ReasonPermanent, 5)
	require.NoError(t, j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{in}))
	got := only(t, j, pipeline.DeadLetterFilter{})
	assertLetter(t, in, got)

	fi, err := os.Stat(filepath.Join(dir, "deadletters.db"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// Storing (sink, seq) again replaces the letter.
	again := in
	again.Attempts, again.Redrives, again.LastError, again.LastAt = 9, 1, "again", in.LastAt.Add(time.Hour)
	require.NoError(t, j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{again}))
	assertLetter(t, again, only(t, j, pipeline.DeadLetterFilter{}))

	// It survives Close and Open.
	require.NoError(t, j.Close(ctxT(t)))
	j2 := openDL(t, dir, false)
	assertLetter(t, again, only(t, j2, pipeline.DeadLetterFilter{}))
	require.NoError(t, j2.PutDeadLetters(ctxT(t), nil), "nothing to store is fine")
}

func only(t *testing.T, j *journal.Journal, f pipeline.DeadLetterFilter) pipeline.DeadLetter {
	t.Helper()
	var got []pipeline.DeadLetter
	require.NoError(t, j.DeadLetters(ctxT(t), f, func(l pipeline.DeadLetter) error {
		got = append(got, l)
		return nil
	}))
	require.Len(t, got, 1)
	return got[0]
}

func assertLetter(t *testing.T, want, got pipeline.DeadLetter) {
	t.Helper()
	assert.True(t, want.FirstAt.Equal(got.FirstAt), "first at %v, want %v", got.FirstAt, want.FirstAt)
	assert.True(t, want.LastAt.Equal(got.LastAt), "last at %v, want %v", got.LastAt, want.LastAt)
	assert.True(t, want.Event.Time.Equal(got.Event.Time), "event time %v, want %v", got.Event.Time, want.Event.Time)
	want.FirstAt, want.LastAt, want.Event.Time = got.FirstAt, got.LastAt, got.Event.Time
	assert.Equal(t, want, got)
}

func TestDeleteDeadLetters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		f        pipeline.DeadLetterFilter
		wantN    int
		wantLeft []string
	}{
		{name: "everything", wantN: 5, wantLeft: []string{}},
		{name: "sink", f: pipeline.DeadLetterFilter{Sink: "b"}, wantN: 2, wantLeft: []string{"a/2", "a/10", "ab/1"}},
		{name: "sink and seqs", f: pipeline.DeadLetterFilter{Sink: "a", Seqs: []uint64{10, 11}}, wantN: 1, wantLeft: []string{"a/2", "ab/1", "b/1", "b/2"}},
		{name: "reason", f: pipeline.DeadLetterFilter{Reason: "exhausted"}, wantN: 1, wantLeft: []string{"a/2", "a/10", "ab/1", "b/1"}},
		{name: "until", f: pipeline.DeadLetterFilter{Until: dlBase.Add(10 * time.Minute)}, wantN: 2, wantLeft: []string{"ab/1", "b/1", "b/2"}},
		{name: "nothing matches", f: pipeline.DeadLetterFilter{Sink: "zz"}, wantN: 0, wantLeft: []string{"a/2", "a/10", "ab/1", "b/1", "b/2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := openDL(t, t.TempDir(), false)
			require.NoError(t, j.PutDeadLetters(ctxT(t), sampleLetters()))
			n, err := j.DeleteDeadLetters(ctxT(t), tt.f)
			require.NoError(t, err)
			assert.Equal(t, tt.wantN, n)
			assert.Equal(t, tt.wantLeft, ids(t, j, pipeline.DeadLetterFilter{}))
		})
	}
}

func TestRequestRedriveBroadcasts(t *testing.T) {
	t.Parallel()
	j := openDL(t, t.TempDir(), false)
	require.NoError(t, j.PutDeadLetters(ctxT(t), sampleLetters()))

	// Two sinks wait on the same request (each took the channel before
	// looking, as the runner does).
	wake := j.RedriveRequested()
	var woken sync.WaitGroup
	for range 2 {
		ch := j.RedriveRequested()
		woken.Add(1)
		go func() {
			defer woken.Done()
			<-ch
		}()
	}

	// A request that marks nothing wakes nobody.
	n, err := j.RequestRedrive(ctxT(t), pipeline.DeadLetterFilter{Sink: "zz"})
	require.NoError(t, err)
	assert.Zero(t, n)
	select {
	case <-wake:
		t.Fatal("woken by a request that marked nothing")
	default:
	}

	n, err = j.RequestRedrive(ctxT(t), pipeline.DeadLetterFilter{Sink: "a"})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatal("not woken")
	}
	both := make(chan struct{})
	go func() { woken.Wait(); close(both) }()
	select {
	case <-both:
	case <-time.After(10 * time.Second):
		t.Fatal("not every waiter was woken")
	}
	assert.Equal(t, []string{"a/2", "a/10", "b/1"}, ids(t, j, pipeline.DeadLetterFilter{OnlyRedriveRequested: true}))

	// The next channel is a new one, closed by the next request; letters
	// already marked count again.
	next := j.RedriveRequested()
	select {
	case <-next:
		t.Fatal("the channel after a broadcast is already closed")
	default:
	}
	n, err = j.RequestRedrive(ctxT(t), pipeline.DeadLetterFilter{Seqs: []uint64{1}})
	require.NoError(t, err)
	assert.Equal(t, 2, n, "ab/1 newly marked, b/1 already marked")
	<-next
	assert.Equal(t, []string{"a/2", "a/10", "ab/1", "b/1"}, ids(t, j, pipeline.DeadLetterFilter{OnlyRedriveRequested: true}))
}

func TestDeadLettersReadOnly(t *testing.T) {
	t.Parallel()
	ro := pipeline.DeadLetterFilter{}
	mutations := func(t *testing.T, j *journal.Journal) {
		t.Helper()
		require.ErrorIs(t, j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{letter("a", 1, "x", 0)}), journal.ErrReadOnly)
		_, err := j.DeleteDeadLetters(ctxT(t), ro)
		require.ErrorIs(t, err, journal.ErrReadOnly)
		_, err = j.RequestRedrive(ctxT(t), ro)
		require.ErrorIs(t, err, journal.ErrReadOnly)
	}

	t.Run("with letters", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		j := openDL(t, dir, false)
		require.NoError(t, j.PutDeadLetters(ctxT(t), sampleLetters()))
		require.NoError(t, j.Close(ctxT(t)))
		r := openDL(t, dir, true)
		assert.Equal(t, []string{"a/2", "a/10", "ab/1", "b/1", "b/2"}, ids(t, r, ro))
		mutations(t, r)
		// Two read-only opens share the journal.
		r2 := openDL(t, dir, true)
		assert.Len(t, ids(t, r2, ro), 5)
	})
	t.Run("without a store file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		j := openDL(t, dir, false)
		require.NoError(t, j.Close(ctxT(t)))
		require.NoError(t, os.Remove(filepath.Join(dir, "deadletters.db")))
		r := openDL(t, dir, true)
		assert.Empty(t, ids(t, r, ro))
		mutations(t, r)
		require.NoError(t, r.Close(ctxT(t)))
		assert.NoFileExists(t, filepath.Join(dir, "deadletters.db"), "a read-only open creates nothing")
	})
}

func TestDeadLettersClosed(t *testing.T) {
	t.Parallel()
	j := openDL(t, t.TempDir(), false)
	require.NoError(t, j.Close(ctxT(t)))
	f := pipeline.DeadLetterFilter{}
	require.ErrorIs(t, j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{letter("a", 1, "x", 0)}), pipeline.ErrJournalClosed)
	require.ErrorIs(t, j.DeadLetters(ctxT(t), f, func(pipeline.DeadLetter) error { return nil }), pipeline.ErrJournalClosed)
	_, err := j.DeleteDeadLetters(ctxT(t), f)
	require.ErrorIs(t, err, pipeline.ErrJournalClosed)
	_, err = j.RequestRedrive(ctxT(t), f)
	require.ErrorIs(t, err, pipeline.ErrJournalClosed)
	assert.NotNil(t, j.RedriveRequested())
}

func TestDeadLettersErrors(t *testing.T) {
	t.Parallel()
	j := openDL(t, t.TempDir(), false)
	for _, sink := range []string{"", "a\x00b"} {
		require.Error(t, j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{letter(sink, 1, "x", 0)}), "sink %q", sink)
	}
	assert.Empty(t, ids(t, j, pipeline.DeadLetterFilter{}), "a rejected batch stores nothing")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, j.PutDeadLetters(ctx, []pipeline.DeadLetter{letter("a", 1, "x", 0)}), context.Canceled)
	require.ErrorIs(t, j.DeadLetters(ctx, pipeline.DeadLetterFilter{}, func(pipeline.DeadLetter) error { return nil }), context.Canceled)
}

// TestDeadLettersWalkPages walks more letters than one page, stops on the
// callback's error, and calls the store from inside the walk.
func TestDeadLettersWalkPages(t *testing.T) {
	t.Parallel()
	j := openDL(t, t.TempDir(), false)
	const n = 300
	var ls []pipeline.DeadLetter
	for i := range n {
		ls = append(ls, letter("s", uint64(n-i), pipeline.ReasonPermanent, i))
	}
	require.NoError(t, j.PutDeadLetters(ctxT(t), ls))

	var seqs []uint64
	require.NoError(t, j.DeadLetters(ctxT(t), pipeline.DeadLetterFilter{Sink: "s"}, func(l pipeline.DeadLetter) error {
		seqs = append(seqs, l.Seq)
		return nil
	}))
	require.Len(t, seqs, n)
	for i, s := range seqs {
		require.Equal(t, uint64(i+1), s)
	}

	stop := errors.New("stop")
	seen := 0
	err := j.DeadLetters(ctxT(t), pipeline.DeadLetterFilter{}, func(l pipeline.DeadLetter) error {
		seen++
		if seen == 100 {
			return stop
		}
		// Deleting what was handed out is allowed during the walk.
		_, err := j.DeleteDeadLetters(ctxT(t), pipeline.DeadLetterFilter{Sink: l.Sink, Seqs: []uint64{l.Seq}})
		return err
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 100, seen)
	assert.Len(t, ids(t, j, pipeline.DeadLetterFilter{}), n-99)
}

// TestDeadLettersConcurrent is for the race detector: puts, walks,
// deletes and redrive requests at once, then Close.
func TestDeadLettersConcurrent(t *testing.T) {
	t.Parallel()
	j := openDL(t, t.TempDir(), false)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sink := fmt.Sprintf("s%d", w)
			for i := range 20 {
				assert.NoError(t, j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{letter(sink, uint64(i+1), "x", i)}))
				assert.NoError(t, j.DeadLetters(ctxT(t), pipeline.DeadLetterFilter{}, func(pipeline.DeadLetter) error { return nil }))
				_, err := j.RequestRedrive(ctxT(t), pipeline.DeadLetterFilter{Sink: sink})
				assert.NoError(t, err)
				if i%2 == 1 {
					_, err := j.DeleteDeadLetters(ctxT(t), pipeline.DeadLetterFilter{Sink: sink, Seqs: []uint64{uint64(i)}})
					assert.NoError(t, err)
				}
			}
		}()
	}
	wg.Wait()
	assert.Len(t, ids(t, j, pipeline.DeadLetterFilter{OnlyRedriveRequested: true}), 4*10)
	require.NoError(t, j.Close(ctxT(t)))
}

func TestDeadLettersCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openDL(t, dir, false)
	require.NoError(t, j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{letter("a", 1, "x", 0)}))
	require.NoError(t, j.Close(ctxT(t)))
	rawUpdate(t, dir, "deadletters.db", func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("deadletters")).Put(append([]byte("a\x00"), key(2)...), []byte(`{"v":99}`))
	})
	j = openDL(t, dir, false)
	err := j.DeadLetters(ctxT(t), pipeline.DeadLetterFilter{}, func(pipeline.DeadLetter) error { return nil })
	require.ErrorIs(t, err, journal.ErrCorrupt)
	assert.Contains(t, err.Error(), "unknown version 99")
}
