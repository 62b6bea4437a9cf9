package vmfaultsource

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakenova"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

func TestLifecycle(t *testing.T) {
	f := newFake(t)
	f.Put(activeServer(idA, "web"))
	pipelinetest.TestSource(t, func(t *testing.T) pipeline.Source {
		src, err := NewFactory().NewSource(t.Context(), pipeline.NopSettings("vmf"), osConfig(f, WatchEntry{All: true}))
		require.NoError(t, err)
		return src
	})
}

// An ERROR then ACTIVE server is one raise and one clear that carries the
// raise's start; polls in between add nothing.
func TestFaultRaisedOnceAndCleared(t *testing.T) {
	f := newFake(t)
	f.Put(activeServer(idA, "web"))
	f.Put(activeServer(idB, "db"))
	r := start(t, osConfig(f, WatchEntry{All: true}))
	waitCount(t, f, fakenova.RouteList, 2)
	require.Empty(t, r.host.Events())

	f.Put(errorServer(idA, "web"))
	raise := events(t, r.host, 1)[0]
	waitCount(t, f, fakenova.RouteList, 3)
	f.Put(activeServer(idA, "web"))
	events(t, r.host, 2)
	waitCount(t, f, fakenova.RouteList, 3)
	evs := exactly(t, r.host, 2)

	assert.Equal(t, TypeFault, raise.Type)
	assert.Equal(t, pipeline.SeverityCritical, raise.Severity)
	assert.Equal(t, idA, raise.Subject)
	assert.Equal(t, idA, raise.data.ServerID)
	assert.Equal(t, "web", raise.data.ServerName)
	assert.Equal(t, f.ProjectID, raise.data.ProjectID)
	assert.Equal(t, "ERROR", raise.data.Status)
	require.NotNil(t, raise.data.Fault)
	assert.Equal(t, 500, raise.data.Fault.Code)
	assert.Equal(t, "No valid host was found. There are not enough hosts available.", raise.data.Fault.Message)
	assert.Equal(t, "2013-09-03T04:01:33Z", raise.data.Fault.Created)
	assert.Equal(t, "error", *raise.data.VMState)
	assert.False(t, raise.data.RaisedAt.IsZero())
	assert.Equal(t, raise.data.RaisedAt, raise.Time)

	cleared := evs[1]
	assert.Equal(t, TypeFaultCleared, cleared.Type)
	assert.True(t, cleared.data.Cleared)
	assert.Equal(t, ClearRecovered, cleared.data.Reason)
	assert.Equal(t, raise.data.RaisedAt, cleared.data.RaisedAt, "the clear carries the raise's start")
	assert.Equal(t, "ACTIVE", cleared.data.Status)
	assert.Equal(t, raise.data.Reason, cleared.data.FaultReason)
	assert.NotEqual(t, raise.ID, cleared.ID)

	state, err := r.host.State(t.Context())
	require.NoError(t, err)
	assert.Empty(t, state, "a cleared episode leaves no state")
	for _, v := range f.Microversions() {
		assert.Equal(t, DefaultMicroversion, v)
	}
}

// A listing whose size is a multiple of the page size ends with an empty
// page; every page is read and a fault on the last full page is found.
func TestPagingFullLastPageThenEmpty(t *testing.T) {
	f := newFake(t)
	ids := []string{idA, idB, idC, "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"}
	for i, id := range ids {
		f.Put(activeServer(id, "vm"+string(rune('a'+i))))
	}
	f.Put(errorServer(ids[5], "vmf"))
	cfg := osConfig(f, WatchEntry{All: true})
	cfg.PageSize = 3
	cfg.Interval = time.Hour
	r := start(t, cfg)
	evs := events(t, r.host, 1)
	assert.Equal(t, ids[5], evs[0].data.ServerID)
	assert.Equal(t, 3, f.Count(fakenova.RouteList), "two full pages and the empty one")
}

// Nova's server page cap (max_limit) below page_size: a short page with a
// next link still continues.
func TestPagingMaxLimitCapsPage(t *testing.T) {
	f := newFake(t)
	f.SetMaxLimit(2)
	f.Put(activeServer(idA, "a"))
	f.Put(activeServer(idB, "b"))
	f.Put(errorServer(idC, "c"))
	cfg := osConfig(f, WatchEntry{All: true})
	cfg.Interval = time.Hour
	r := start(t, cfg)
	evs := events(t, r.host, 1)
	assert.Equal(t, idC, evs[0].data.ServerID)
	assert.Equal(t, 2, f.Count(fakenova.RouteList))
}

// A token Nova rejects (expired or revoked) is replaced once and the
// request replayed: the poll succeeds without a backoff.
func TestExpiredTokenReauthenticatesOnce(t *testing.T) {
	f := newFake(t)
	f.Put(activeServer(idA, "web"))
	r := start(t, osConfig(f, WatchEntry{All: true}))
	waitCount(t, f, fakenova.RouteList, 3)
	assert.Equal(t, 1, f.Count(fakenova.RouteAuth), "the token is cached between polls")
	f.ExpireTokens()
	f.Put(errorServer(idA, "web"))
	evs := events(t, r.host, 1)
	assert.Equal(t, TypeFault, evs[0].Type)
	assert.Equal(t, 2, f.Count(fakenova.RouteAuth), "one re-authentication")
}

// A token close to its expires_at is replaced before Nova rejects it.
func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	f := newFake(t)
	f.SetTokenTTL(2 * time.Second) // the margin is half of it: 1s
	f.Put(activeServer(idA, "web"))
	start(t, osConfig(f, WatchEntry{All: true}))
	require.Eventually(t, func() bool { return f.Count(fakenova.RouteAuth) >= 2 }, 5*time.Second, 10*time.Millisecond)
	waitCount(t, f, fakenova.RouteList, 2)
}

// A wrong password is an error that is retried with backoff, never a
// fault or a clear, and never a tight loop.
func TestBadPasswordBacksOff(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	cfg := osConfig(f, WatchEntry{All: true})
	cfg.Auth.Password = "wrong"
	r := start(t, cfg)
	time.Sleep(300 * time.Millisecond)
	n := f.Count(fakenova.RouteAuth)
	assert.Positive(t, n)
	assert.Less(t, n, 30, "backoff between attempts (max 40ms)")
	assert.Empty(t, r.host.Events())
}

// 429 with Retry-After is honoured: the next attempt waits that long.
func TestRateLimitedRetryAfterHonoured(t *testing.T) {
	f := newFake(t)
	f.Put(activeServer(idA, "web"))
	r := start(t, osConfig(f, WatchEntry{All: true}))
	waitCount(t, f, fakenova.RouteList, 1)
	f.Inject(fakenova.RouteList, fakenova.Reply{Status: http.StatusTooManyRequests, RetryAfter: "1", Sample: "nova-429-overLimit.json"})
	waitCount(t, f, fakenova.RouteList, 1)
	before := f.Count(fakenova.RouteList)
	t0 := time.Now()
	f.Put(errorServer(idA, "web"))
	events(t, r.host, 1)
	assert.GreaterOrEqual(t, time.Since(t0), 900*time.Millisecond, "Retry-After: 1 was honoured")
	assert.Equal(t, before+1, f.Count(fakenova.RouteList), "no request during the wait")
}

// 503 with Retry-After and a 500 are retried; nothing is lost: a fault
// that appears during failures is raised once they end.
func TestServerErrorsRetriedNoLostPoll(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	f.Inject(fakenova.RouteList,
		fakenova.Reply{Status: http.StatusServiceUnavailable, RetryAfter: "0", Body: `{"serviceUnavailable":{"code":503,"message":"x"}}`},
		fakenova.Reply{Status: http.StatusInternalServerError, Body: `{"computeFault":{"code":500,"message":"boom"}}`},
		fakenova.Reply{Status: http.StatusOK, Body: `{"servers": "not a list"}`},
		fakenova.Reply{Status: http.StatusOK, Body: `{"servers": [{"id": 7}]}`},
		fakenova.Reply{Status: http.StatusOK, Body: `{"servers": [{"name": "no id"}]}`},
		fakenova.Reply{Status: http.StatusOK, Body: `<html>`},
	)
	r := start(t, osConfig(f, WatchEntry{All: true}))
	evs := events(t, r.host, 1)
	assert.Equal(t, idA, evs[0].data.ServerID)
	assert.Equal(t, 7, f.Count(fakenova.RouteList))
}

// A huge body is an error with a reason, not a fault.
func TestHugeBodyIsAnError(t *testing.T) {
	f := newFake(t)
	f.Put(activeServer(idA, "web"))
	f.Inject(fakenova.RouteList, fakenova.Reply{Status: http.StatusOK, Body: `{"servers":[` + strings.Repeat(" ", 64<<10) + `]}`})
	cfg := osConfig(f, WatchEntry{All: true})
	cfg.MaxResponseBytes = 32 << 10
	r := start(t, cfg)
	waitCount(t, f, fakenova.RouteList, 2)
	assert.Empty(t, r.host.Events())
}

// A down cell's UNKNOWN partial record neither clears an open episode
// nor raises one; the clear comes when the record is known again.
func TestDownCellUnknownIsNotAClear(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	f.Put(fakenova.Server{ID: idB, DownCell: true})
	r := start(t, osConfig(f, WatchEntry{All: true}))
	events(t, r.host, 1)
	f.Put(fakenova.Server{ID: idA, DownCell: true})
	waitCount(t, f, fakenova.RouteList, 5)
	exactly(t, r.host, 1)
	f.Put(activeServer(idA, "web"))
	evs := exactly(t, r.host, 2)
	assert.Equal(t, TypeFaultCleared, evs[1].Type)
	assert.Equal(t, ClearRecovered, evs[1].data.Reason)
}

// Before 2.69 a down cell's servers vanish from listings; the open
// episode is confirmed with GET, whose failure is retried, not a cleared.
func TestDownCellBefore269IsNotADeletion(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	cfg := osConfig(f, WatchEntry{All: true})
	cfg.Microversion = "2.60"
	r := start(t, cfg)
	events(t, r.host, 1)
	f.Put(fakenova.Server{ID: idA, DownCell: true})
	waitCount(t, f, fakenova.RouteShow, 3)
	exactly(t, r.host, 1)
}

// A server deleted while faulty is cleared as deleted: by a full listing
// (confirmed by a 404), by id and by name.
func TestDeletedWhileFaultyIsCleared(t *testing.T) {
	for _, w := range []WatchEntry{{All: true}, {Server: idA}, {Server: "web"}} {
		t.Run(w.key("ops"), func(t *testing.T) {
			f := newFake(t)
			f.Put(errorServer(idA, "web"))
			r := start(t, osConfig(f, w))
			raise := events(t, r.host, 1)[0]
			f.Delete(idA)
			evs := events(t, r.host, 2)
			assert.Equal(t, TypeFaultCleared, evs[1].Type)
			assert.Equal(t, ClearDeleted, evs[1].data.Reason)
			assert.Equal(t, raise.data.RaisedAt, evs[1].data.RaisedAt)
			waitCount(t, f, fakenova.RouteAuth, 0)
			state, err := r.host.State(t.Context())
			require.NoError(t, err)
			assert.Empty(t, state)
		})
	}
}

// A restart with the journal's state neither raises an open episode
// again nor misses its cleared.
func TestRestartKeepsEpisodes(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	f.Put(errorServer(idB, "db"))
	host := pipelinetest.NewRecordingHost("vmf")
	cfg := osConfig(f, WatchEntry{All: true})
	r := run(t, cfg, host, pipeline.NopSettings("vmf"))
	first := events(t, host, 2)
	r.stop()

	r = run(t, cfg, host, pipeline.NopSettings("vmf"))
	waitCount(t, f, fakenova.RouteList, 3)
	exactly(t, host, 2)
	r.stop()

	f.Put(activeServer(idA, "web"))
	f.Delete(idB)
	run(t, cfg, host, pipeline.NopSettings("vmf"))
	evs := exactly(t, host, 4)
	raisedAt := map[string]time.Time{first[0].data.ServerID: first[0].data.RaisedAt, first[1].data.ServerID: first[1].data.RaisedAt}
	for _, e := range evs[2:] {
		assert.Equal(t, TypeFaultCleared, e.Type)
		assert.Equal(t, raisedAt[e.data.ServerID], e.data.RaisedAt)
		want := map[string]string{idA: ClearRecovered, idB: ClearDeleted}[e.data.ServerID]
		assert.Equal(t, want, e.data.Reason)
	}
}

// The episodes of a watch entry removed from the configuration are
// cleared as unwatched, and their state dropped.
func TestUnwatchedStateDroppedWithAClear(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	f.Put(activeServer(idB, "db"))
	host := pipelinetest.NewRecordingHost("vmf")
	r := run(t, osConfig(f, WatchEntry{Server: "web"}), host, pipeline.NopSettings("vmf"))
	events(t, host, 1)
	r.stop()
	run(t, osConfig(f, WatchEntry{Server: "db"}), host, pipeline.NopSettings("vmf"))
	evs := exactly(t, host, 2)
	assert.Equal(t, TypeFaultCleared, evs[1].Type)
	assert.Equal(t, ClearUnwatched, evs[1].data.Reason)
	assert.Equal(t, idA, evs[1].data.ServerID)
	state, err := host.State(t.Context())
	require.NoError(t, err)
	assert.Empty(t, state)
}

// A name watch matches exactly, on top of Nova's unanchored,
// case-insensitive regex.
func TestExactNameMatching(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	f.Put(errorServer(idB, "web-2"))
	f.Put(errorServer(idC, "WEB"))
	f.Put(errorServer("44444444-4444-4444-4444-444444444444", "xweb"))
	r := start(t, osConfig(f, WatchEntry{Server: "web"}))
	waitCount(t, f, fakenova.RouteList, 3)
	evs := exactly(t, r.host, 1)
	assert.Equal(t, idA, evs[0].data.ServerID)
}

// A watch entry with its own tenant gets a token scoped to that project.
func TestTenantScopesItsOwnToken(t *testing.T) {
	f := newFake(t)
	f.Projects["other"] = "a6944d763bf64ee6a275f1263fae0352"
	s := errorServer(idB, "db")
	s.Project = "a6944d763bf64ee6a275f1263fae0352"
	f.Put(s)
	f.Put(errorServer(idA, "web"))
	r := start(t, osConfig(f, WatchEntry{Tenant: "other", All: true}))
	evs := events(t, r.host, 1)
	waitCount(t, f, fakenova.RouteList, 2)
	exactly(t, r.host, 1)
	assert.Equal(t, idB, evs[0].data.ServerID)
	assert.Equal(t, "a6944d763bf64ee6a275f1263fae0352", evs[0].data.ProjectID)
}

// A Keystone outage (30 minutes in production, scaled here to a second
// with a short token lifetime) loses nothing and raises nothing false:
// what changed during it is reported once Keystone answers again.
func TestKeystoneOutageLosesNothing(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	f.Put(activeServer(idB, "db"))
	r := start(t, osConfig(f, WatchEntry{All: true}))
	events(t, r.host, 1)
	outage := make([]fakenova.Reply, 60)
	for i := range outage {
		outage[i] = fakenova.Reply{Status: http.StatusServiceUnavailable, Body: `{"error":{"code":503,"title":"Service Unavailable","message":"down"}}`}
	}
	f.Inject(fakenova.RouteAuth, outage...)
	f.ExpireTokens()
	f.Put(activeServer(idA, "web")) // recovers during the outage
	require.Eventually(t, func() bool { return f.Count(fakenova.RouteAuth) >= 40 }, 10*time.Second, 5*time.Millisecond)
	exactly(t, r.host, 1)
	evs := exactly(t, r.host, 2)
	assert.Equal(t, TypeFaultCleared, evs[1].Type)
	assert.Equal(t, idA, evs[1].data.ServerID)
	waitCount(t, f, fakenova.RouteList, 3)
	exactly(t, r.host, 2)
}

// A journal that refuses the batch keeps the episode unchanged; the raise
// is retried, not lost or doubled.
func TestEmitFailureRetried(t *testing.T) {
	f := newFake(t)
	f.Put(errorServer(idA, "web"))
	host := pipelinetest.NewRecordingHost("vmf")
	host.SetError(pipeline.ErrJournalFull)
	run(t, osConfig(f, WatchEntry{All: true}), host, pipeline.NopSettings("vmf"))
	require.Eventually(t, func() bool { return host.Calls() >= 3 }, 5*time.Second, time.Millisecond)
	host.SetError(nil)
	events(t, host, 1)
	waitCount(t, f, fakenova.RouteList, 3)
	exactly(t, host, 1)
}

// Keystone and Nova over HTTPS, trusting tls.ca_file; without it the
// certificate fails verification (retried, never a fault).
func TestTLSWithCAFile(t *testing.T) {
	f := fakenova.NewTLS()
	t.Cleanup(f.Close)
	f.Put(errorServer(idA, "web"))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, f.CertPEM(), 0o600))

	untrusted := start(t, osConfig(f, WatchEntry{All: true}))
	time.Sleep(100 * time.Millisecond)
	assert.Empty(t, untrusted.host.Events())
	untrusted.stop()

	cfg := osConfig(f, WatchEntry{All: true})
	cfg.TLS.CAFile = ca
	r := start(t, cfg)
	evs := events(t, r.host, 1)
	assert.Equal(t, idA, evs[0].data.ServerID)
}

func TestProvisionReportsAMissingCAFile(t *testing.T) {
	f := newFake(t)
	cfg := osConfig(f, WatchEntry{All: true})
	cfg.TLS.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	src, err := NewFactory().NewSource(t.Context(), pipeline.NopSettings("vmf"), cfg)
	require.NoError(t, err, "the factory reads no file")
	p, ok := src.(interface{ Provision(context.Context) error })
	require.True(t, ok)
	err = p.Provision(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tls.ca_file")
}
