package vmfaultsource

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// overlapRig is an openstack source with two entries that cover server
// "web" ({all: true} and by name), whose readings a test makes and
// applies in the order it wants, as concurrent polls may reach the book.
type overlapRig struct {
	t          *testing.T
	s          *openStackSource
	host       *pipelinetest.RecordingHost
	all, named *watcher
}

func newOverlapRig(t *testing.T) overlapRig {
	f := newFake(t)
	cfg := osConfig(f, WatchEntry{All: true}, WatchEntry{Server: "web"})
	require.NoError(t, cfg.Validate())
	s, err := newOpenStackSource(pipeline.NopSettings("vmf"), *cfg)
	require.NoError(t, err)
	return overlapRig{t: t, s: s, host: pipelinetest.NewRecordingHost("vmf"), all: s.watchers[0], named: s.watchers[1]}
}

// read is a reading of srv whose requests are sent now.
func (r overlapRig) read(srv ...server) *reading {
	return &reading{listed: srv, start: r.s.book.begin()}
}

// apply applies a as w's answer and returns the number of changes.
func (r overlapRig) apply(w *watcher, a *reading) int {
	r.t.Helper()
	n, err := r.s.apply(r.t.Context(), r.host, w, a)
	require.NoError(r.t, err)
	return n
}

func web(status string) server { return server{ID: idA, Name: "web", Status: status} }
func db(status string) server  { return server{ID: idB, Name: "db", Status: status} }

// Two entries that cover one server poll concurrently: the answer of one,
// read while the server was still in ERROR, reaches the book after the
// other entry's newer answer cleared the episode. The stale answer must
// not raise the server again (TestOverlappingWatchesRaiseOnce saw raise,
// clear, raise, clear at load 20); a later answer still judges it.
func TestStaleAnswerDoesNotUndoANewerOne(t *testing.T) {
	r := newOverlapRig(t)
	require.Equal(t, 1, r.apply(r.all, r.read(web("ERROR"))), "raised")
	stale := r.read(web("ERROR")) // {all: true} sends its next poll before the recovery
	fresh := r.read(web("ACTIVE"))
	require.Equal(t, 1, r.apply(r.named, fresh), "cleared by the newer answer")
	assert.Zero(t, r.apply(r.all, stale), "the stale answer changes nothing")
	assert.Empty(t, r.s.book.open)
	assert.Len(t, r.host.Events(), 2)

	// Answers sent after the clear was made judge the server again.
	require.Equal(t, 1, r.apply(r.all, r.read(web("ERROR"))), "a new fault is raised")
	assert.Len(t, r.host.Events(), 3)
	assert.Empty(t, r.s.book.fresh.inFlight)
	assert.Empty(t, r.s.book.fresh.changed, "nothing kept once no reading is in flight")
}

// A change makes an overlapped answer stale only for the server it
// changed, and an answer that changes nothing makes no answer stale: an
// entry is not starved by another that polls more often.
func TestOverlappedAnswerSkipsOnlyChangedServers(t *testing.T) {
	r := newOverlapRig(t)
	require.Equal(t, 1, r.apply(r.all, r.read(web("ERROR"), db("ACTIVE"))), "web raised")
	overlapped := r.read(web("ERROR"), db("ERROR"))
	require.Equal(t, 1, r.apply(r.named, r.read(web("ACTIVE"))), "web cleared")
	assert.Equal(t, 1, r.apply(r.all, overlapped), "db, which no change touched, is raised; web is not raised again")
	assert.NotContains(t, r.s.book.open, idA)
	assert.Contains(t, r.s.book.open, idB)

	slow := r.read(web("ERROR"))
	assert.Zero(t, r.apply(r.all, r.read(web("ACTIVE"), db("ERROR"))), "an answer that changes nothing")
	assert.Equal(t, 1, r.apply(r.named, slow), "is no reason to skip an overlapped one")
	assert.Contains(t, r.s.book.open, idA)
	assert.Len(t, r.host.Events(), 4)
}
