package vmfaultsource

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakenova"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// allOps is the key of {all: true} in project ops.
var allOps = WatchEntry{All: true}.key("ops")

// A watch entry by server id reads GET /servers/{id} (no listing), with
// the user's and the project's domains given by id.
func TestWatchByIDWithDomainIDs(t *testing.T) {
	f := newFake(t)
	f.Put(activeServer(idA, "web"))
	f.Put(errorServer(idB, "db")) // not watched
	cfg := osConfig(f, WatchEntry{Server: idA})
	cfg.Auth.UserDomain, cfg.Auth.UserDomainID = "", "default"
	cfg.Auth.ProjectDomain, cfg.Auth.ProjectDomainID = "", "default"
	require.NoError(t, cfg.Validate())
	r := start(t, cfg)
	waitCount(t, f, fakenova.RouteShow, 2)
	require.Empty(t, r.host.Events())
	f.Put(errorServer(idA, "web"))
	raise := events(t, r.host, 1)[0]
	f.Put(activeServer(idA, "web"))
	evs := events(t, r.host, 2)
	waitCount(t, f, fakenova.RouteShow, 2)
	exactly(t, r.host, 2)
	assert.Equal(t, TypeFault, raise.Type)
	assert.Equal(t, idA, raise.data.ServerID)
	assert.Equal(t, "ops/"+idA, raise.data.Watch)
	assert.Equal(t, TypeFaultCleared, evs[1].Type)
	assert.Equal(t, ClearRecovered, evs[1].data.Reason)
	assert.Zero(t, f.Count(fakenova.RouteList), "an id entry lists nothing")
}

// A server matched by three entries (every server, its name, its id) is
// one episode: one raise, one clear, one state key.
func TestOverlappingWatchesRaiseOnce(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	f.Put(activeServer(idB, "db"))
	r := start(t, osConfig(f, WatchEntry{All: true}, WatchEntry{Server: "web"}, WatchEntry{Server: idA}))
	events(t, r.host, 1)
	waitCount(t, f, fakenova.RouteList, 6) // every entry polled several times
	waitCount(t, f, fakenova.RouteShow, 3)
	exactly(t, r.host, 1)
	state, err := r.host.State(t.Context())
	require.NoError(t, err)
	assert.Len(t, state, 1, "one episode: %v", state)

	f.Put(activeServer(idA, "web"))
	evs := events(t, r.host, 2)
	waitCount(t, f, fakenova.RouteList, 6)
	exactly(t, r.host, 2)
	assert.Equal(t, TypeFaultCleared, evs[1].Type)
	assert.Equal(t, evs[0].data.RaisedAt, evs[1].data.RaisedAt)
	state, err = r.host.State(t.Context())
	require.NoError(t, err)
	assert.Empty(t, state)
}

// An episode whose entry was removed from the configuration is handed
// over, without an event, to an entry that still lists the server; it is
// cleared later by its recovery, once.
func TestRemovedEntryHandsOverItsEpisode(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	host := pipelinetest.NewRecordingHost("vmf")
	r := run(t, osConfig(f, WatchEntry{Server: "web"}), host, pipeline.NopSettings("vmf"))
	raise := events(t, host, 1)[0]
	r.stop()

	run(t, osConfig(f, WatchEntry{All: true}), host, pipeline.NopSettings("vmf"))
	waitCount(t, f, fakenova.RouteList, 3)
	exactly(t, host, 1)
	require.Eventually(t, func() bool {
		state, err := host.State(t.Context())
		require.NoError(t, err)
		_, ok := state[episodeKey(allOps, idA)]
		return ok && len(state) == 1
	}, 5e9, 1e6, "the episode moves to the all entry")
	f.Put(activeServer(idA, "web"))
	evs := events(t, host, 2)
	assert.Equal(t, ClearRecovered, evs[1].data.Reason)
	assert.Equal(t, allOps, evs[1].data.Watch)
	assert.Equal(t, raise.data.RaisedAt, evs[1].data.RaisedAt)
}

// A server renamed away from its name entry while faulty, and still
// listed by another entry, keeps its one episode.
func TestRenamedAwayHandsOver(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	host := pipelinetest.NewRecordingHost("vmf")
	r := run(t, osConfig(f, WatchEntry{Server: "web"}), host, pipeline.NopSettings("vmf"))
	events(t, host, 1)
	r.stop()
	run(t, osConfig(f, WatchEntry{Server: "web"}, WatchEntry{All: true}), host, pipeline.NopSettings("vmf"))
	waitCount(t, f, fakenova.RouteList, 4)
	f.Put(errorServer(idA, "web-renamed"))
	waitCount(t, f, fakenova.RouteShow, 1)
	waitCount(t, f, fakenova.RouteList, 4)
	exactly(t, host, 1)
	state, err := host.State(t.Context())
	require.NoError(t, err)
	assert.Contains(t, state, episodeKey(allOps, idA))
	assert.Len(t, state, 1)
}

// Duplicate episodes of one server (state written before one episode per
// server) fold into one: no second raise, and the duplicate's state goes.
func TestDuplicateEpisodesFold(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	host := pipelinetest.NewRecordingHost("vmf")
	r := run(t, osConfig(f, WatchEntry{All: true}), host, pipeline.NopSettings("vmf"))
	events(t, host, 1)
	r.stop()
	state, err := host.State(t.Context())
	require.NoError(t, err)
	v := state[episodeKey(allOps, idA)]
	require.NotEmpty(t, v)
	_, err = host.Emit(t.Context(), nil, pipeline.StateUpdate{Key: episodeKey(WatchEntry{Server: "web"}.key("ops"), idA), Value: v})
	require.NoError(t, err)

	run(t, osConfig(f, WatchEntry{All: true}, WatchEntry{Server: "web"}), host, pipeline.NopSettings("vmf"))
	require.Eventually(t, func() bool {
		state, err := host.State(t.Context())
		require.NoError(t, err)
		return len(state) == 1
	}, 5e9, 1e6)
	waitCount(t, f, fakenova.RouteList, 4)
	exactly(t, host, 1)
}
