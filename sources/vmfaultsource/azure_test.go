package vmfaultsource

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakeimds"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

const docEventID = "C7061BAC-AFDC-4513-B24B-AA5F13A16123"

func newIMDS(t *testing.T) *fakeimds.Fake {
	t.Helper()
	f := fakeimds.New()
	t.Cleanup(f.Close)
	return f
}

func azConfig(f *fakeimds.Fake) *Config {
	c := defaultConfig()
	c.Provider = ProviderAzure
	c.Endpoint = f.URL
	c.VMName = "WestNO_0"
	c.Interval = 10 * time.Millisecond
	c.Timeout = 2 * time.Second
	c.Retry = pipeline.RetryConfig{Initial: 5 * time.Millisecond, Max: 40 * time.Millisecond, Multiplier: 2, Jitter: 0.1}
	return c
}

type maint struct {
	pipeline.Event
	data maintenanceData
}

func maintEvents(t *testing.T, h *pipelinetest.RecordingHost, n int) []maint {
	t.Helper()
	evs := events(t, h, n)
	out := make([]maint, len(evs))
	for i, e := range evs {
		out[i].Event = e.Event
		require.NoError(t, json.Unmarshal(e.Data, &out[i].data))
	}
	return out
}

func waitGets(t *testing.T, f *fakeimds.Fake, n int) {
	t.Helper()
	from := f.Gets()
	require.Eventually(t, func() bool { return f.Gets() >= from+n }, 5*time.Second, time.Millisecond)
}

func states(evs []maint) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.data.State
	}
	return out
}

// The documented live-migration sequence (incarnations 1 to 4) is one
// scheduled, one started and one completed event, whatever the number of
// polls of each document.
func TestAzureLiveMigrationSequence(t *testing.T) {
	f := newIMDS(t)
	r := run(t, azConfig(f), pipelinetest.NewRecordingHost("az"), pipeline.NopSettings("az"))
	for _, doc := range fakeimds.LiveMigration {
		f.ServeSample(doc)
		waitGets(t, f, 3)
	}
	evs := maintEvents(t, r.host, 3)
	require.Len(t, evs, 3)
	assert.Equal(t, []string{MaintenanceScheduled, MaintenanceStarted, MaintenanceCompleted}, states(evs))
	for _, e := range evs {
		assert.Equal(t, TypeMaintenance, e.Type)
		assert.Equal(t, docEventID, e.Subject)
		assert.Equal(t, docEventID, e.data.EventID)
		assert.Equal(t, "Freeze", e.data.Kind)
	}
	assert.Equal(t, time.Date(2026, 4, 11, 22, 26, 58, 0, time.UTC), evs[0].data.NotBefore)
	assert.Equal(t, int64(2), evs[0].data.DocumentIncarnation)
	assert.Equal(t, 5, evs[0].data.DurationSeconds)
	assert.Equal(t, "Platform", evs[0].data.Origin)
	assert.Equal(t, int64(3), evs[1].data.DocumentIncarnation)
	assert.Equal(t, "azure-"+docEventID+"-scheduled", evs[0].ID)
	for _, v := range f.Versions() {
		assert.Equal(t, azureAPIVersion, v)
	}
	state, err := r.host.State(t.Context())
	require.NoError(t, err)
	assert.Empty(t, state, "a finished event leaves no state")
}

func TestAzureIgnoresOtherVMs(t *testing.T) {
	f := newIMDS(t)
	cfg := azConfig(f)
	cfg.VMName = "EastNO_3"
	r := start(t, cfg)
	f.ServeSample(fakeimds.LiveMigration[1])
	waitGets(t, f, 3)
	assert.Empty(t, r.host.Events())
}

// A restart with the journal's state does not report an event again.
func TestAzureRestartDeduplicates(t *testing.T) {
	f := newIMDS(t)
	host := pipelinetest.NewRecordingHost("az")
	f.ServeSample(fakeimds.LiveMigration[1])
	r := run(t, azConfig(f), host, pipeline.NopSettings("az"))
	maintEvents(t, host, 1)
	r.stop()
	r = run(t, azConfig(f), host, pipeline.NopSettings("az"))
	waitGets(t, f, 3)
	assert.Len(t, host.Events(), 1)
	f.ServeSample(fakeimds.LiveMigration[2])
	evs := maintEvents(t, host, 2)
	assert.Equal(t, MaintenanceStarted, evs[1].data.State)
	r.stop()
	f.ServeSample(fakeimds.LiveMigration[3])
	run(t, azConfig(f), host, pipeline.NopSettings("az"))
	evs = maintEvents(t, host, 3)
	waitGets(t, f, 3)
	require.Len(t, host.Events(), 3)
	assert.Equal(t, MaintenanceCompleted, evs[2].data.State)
}

func azureDoc1(incarnation int, status, notBefore string) []byte {
	return []byte(`{"DocumentIncarnation": ` + itoa(incarnation) + `, "Events": [{"EventId": "e1", "EventStatus": "` + status +
		`", "EventType": "Reboot", "ResourceType": "VirtualMachine", "Resources": ["westno_0"], "NotBefore": "` + notBefore +
		`", "Description": "Host server is undergoing maintenance.", "EventSource": "Platform", "DurationInSeconds": -1}]}`)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// An event that vanishes while Scheduled, before its NotBefore, was
// cancelled; the ISO 8601 times of Microsoft's mock server are read too.
func TestAzureCancelledAndISOTime(t *testing.T) {
	f := newIMDS(t)
	r := start(t, azConfig(f))
	nb := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	f.Serve(azureDoc1(5, "Scheduled", nb.Format("2006-01-02T15:04:05Z")))
	maintEvents(t, r.host, 1)
	f.Serve([]byte(`{"DocumentIncarnation": 6, "Events": []}`))
	evs := maintEvents(t, r.host, 2)
	assert.Equal(t, []string{MaintenanceScheduled, MaintenanceCancelled}, states(evs))
	assert.Equal(t, nb, evs[0].data.NotBefore)
}

// A hardware failure skips Scheduled: the event appears Started.
func TestAzureHardwareFailureSkipsScheduled(t *testing.T) {
	f := newIMDS(t)
	r := start(t, azConfig(f))
	f.Serve(azureDoc1(2, "Started", ""))
	maintEvents(t, r.host, 1)
	f.Serve([]byte(`{"DocumentIncarnation": 3, "Events": []}`))
	evs := maintEvents(t, r.host, 2)
	assert.Equal(t, []string{MaintenanceStarted, MaintenanceCompleted}, states(evs))
}

// approve.after approves a Scheduled event once, with StartRequests.
func TestAzureApproveAfter(t *testing.T) {
	f := newIMDS(t)
	cfg := azConfig(f)
	cfg.Approve = &ApproveConfig{After: 100 * time.Millisecond}
	host := pipelinetest.NewRecordingHost("az")
	f.ServeSample(fakeimds.LiveMigration[1])
	t0 := time.Now()
	r := run(t, cfg, host, pipeline.NopSettings("az"))
	evs := maintEvents(t, host, 2)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)
	assert.Equal(t, []string{MaintenanceScheduled, MaintenanceApproved}, states(evs))
	assert.Equal(t, []string{docEventID}, f.Approved())
	r.stop()
	run(t, cfg, host, pipeline.NopSettings("az"))
	waitGets(t, f, 3)
	assert.Equal(t, []string{docEventID}, f.Approved(), "not approved again after a restart")
	assert.Len(t, host.Events(), 2)
}

// A failed or malformed answer is not "nothing scheduled": a known event
// is not reported finished, and the poll is retried.
func TestAzureErrorsAreNotAnEmptyDocument(t *testing.T) {
	f := newIMDS(t)
	r := start(t, azConfig(f))
	f.ServeSample(fakeimds.LiveMigration[1])
	maintEvents(t, r.host, 1)
	for _, bad := range []struct {
		status int
		body   string
	}{
		{http.StatusInternalServerError, `{}`},
		{http.StatusOK, `{}`},
		{http.StatusOK, `{"DocumentIncarnation": 9}`},
		{http.StatusOK, `{"DocumentIncarnation": "9", "Events": []}`},
		{http.StatusOK, `{"DocumentIncarnation": 9, "Events": [{"EventId": "x", "EventStatus": "Done"}]}`},
		{http.StatusOK, `{"DocumentIncarnation": 9, "Events": [{"EventId": "x", "EventStatus": "Scheduled", "NotBefore": "soon"}]}`},
		{http.StatusOK, `{"DocumentIncarnation": 9, "Events": [` + strings.Repeat(`{"EventId": "x", "EventStatus": "Scheduled"},`, 2) + `{}]}`},
	} {
		f.ServeStatus(bad.status, []byte(bad.body))
		waitGets(t, f, 2)
	}
	assert.Len(t, r.host.Events(), 1)
}

func TestParseAzureTime(t *testing.T) {
	want := time.Date(2026, 4, 11, 22, 26, 58, 0, time.UTC)
	for _, s := range []string{"Mon, 11 Apr 2026 22:26:58 GMT", "2026-04-11T22:26:58Z", "2026-04-11T23:26:58+01:00", "Sat, 11 Apr 2026 22:26:58 +0000"} {
		got, err := parseAzureTime(s)
		require.NoError(t, err, s)
		assert.True(t, want.Equal(got), s)
	}
	_, err := parseAzureTime("11/04/2026")
	require.Error(t, err)
}

func FuzzAzureDoc(f *testing.F) {
	for _, s := range fakeimds.LiveMigration {
		f.Add(fakeimds.Sample(s))
	}
	f.Add(azureDoc1(1, "Started", ""))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseAzureDoc(b)
		if err != nil {
			return
		}
		for _, e := range d.Events {
			if e.EventID == "" || e.EventStatus != azureScheduled && e.EventStatus != azureStarted {
				t.Fatalf("accepted %+v", e)
			}
			e.names("vm")
		}
	})
}
