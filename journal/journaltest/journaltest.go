// Package journaltest is the conformance suite every pipeline.Journal
// implementation must pass, plus helpers for tests that need a journal.
//
// A backend's test calls RunConformance with a factory that opens its
// journal on a directory; the suite reopens the same directory to check
// durability across Close.
package journaltest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// OpenFunc opens (or reopens) the journal stored in dir. The suite closes
// what it opens.
type OpenFunc func(t *testing.T, dir string) pipeline.Journal

// MustOpen opens a bbolt journal with default options in a fresh
// t.TempDir. Cleanup verifies the whole journal (CRCs and hash chain) and
// closes it, like bbolt's MustCreateDB.
func MustOpen(t testing.TB) *journal.Journal {
	t.Helper()
	return MustOpenWith(t, t.TempDir(), journal.Options{})
}

// MustOpenWith opens the journal in dir with opts and registers the same
// cleanup as MustOpen.
func MustOpenWith(t testing.TB, dir string, opts journal.Options) *journal.Journal {
	t.Helper()
	j, err := journal.Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := j.Verify(ctx, 0, 0); err != nil && !isClosed(err) {
			t.Errorf("journal verify at cleanup: %v", err)
		}
		if err := j.Close(ctx); err != nil {
			t.Errorf("journal close at cleanup: %v", err)
		}
	})
	return j
}

func isClosed(err error) bool { return err != nil && errors.Is(err, pipeline.ErrJournalClosed) }

// Event returns a test event with a source, type and payload derived from i.
func Event(i int) pipeline.Event {
	return pipeline.Event{
		Source:          "test/source",
		Type:            "sluice.test",
		Subject:         fmt.Sprintf("subject-%d", i),
		DataContentType: "application/json",
		Data:            fmt.Appendf(nil, `{"i":%d}`, i),
	}
}

// Events returns n test events numbered from start.
func Events(start, n int) []pipeline.Event {
	out := make([]pipeline.Event, n)
	for i := range out {
		out[i] = Event(start + i)
	}
	return out
}

// ReadAll reads every record from from to the head without blocking.
func ReadAll(t testing.TB, j pipeline.Journal, from uint64) []pipeline.Record {
	t.Helper()
	ctx := context.Background()
	st, err := j.Stats(ctx)
	require.NoError(t, err)
	var out []pipeline.Record
	for from <= st.Last {
		recs, err := j.Read(ctx, from, pipeline.ReadLimit{})
		require.NoError(t, err)
		require.NotEmpty(t, recs)
		out = append(out, recs...)
		from = recs[len(recs)-1].Seq + 1
	}
	return out
}

// ctxT returns a context bounded for one test step.
func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
