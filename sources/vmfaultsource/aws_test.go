package vmfaultsource

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

func awsConfig(url string) *Config {
	c := defaultConfig()
	c.Provider = ProviderAWS
	c.Endpoint = url
	c.VMName = "i-1234567890abcdef0"
	c.Interval = 20 * time.Millisecond
	c.Timeout = 2 * time.Second
	c.Retry = pipeline.RetryConfig{Initial: 5 * time.Millisecond, Max: 40 * time.Millisecond, Multiplier: 2, Jitter: 0.1}
	return c
}

// An active scheduled event of the simulator is one scheduled event,
// however many polls, with IMDSv2 enforced (-I); a restart of the
// simulator invalidates the token (401), which is fetched again, and a
// restart of the source reports nothing again.
func TestAWSScheduledEventWithIMDSv2(t *testing.T) {
	a := startAEMM(t, 0, "events", "--code", "instance-stop", "--state", "active",
		"--not-before", "2026-01-07T01:03:47Z", "--not-after", "2026-01-14T01:03:47Z")
	host := pipelinetest.NewRecordingHost("aws")
	r := run(t, awsConfig(a.URL), host, pipeline.NopSettings("aws"))
	evs := maintEvents(t, host, 1)
	e := evs[0]
	assert.Equal(t, TypeMaintenance, e.Type)
	assert.Equal(t, MaintenanceScheduled, e.data.State)
	assert.Equal(t, ProviderAWS, e.data.Provider)
	assert.Equal(t, "instance-stop", e.data.Kind)
	assert.Equal(t, "active", e.data.Status)
	assert.NotEmpty(t, e.data.EventID)
	assert.Equal(t, e.data.EventID, e.Subject)
	assert.Equal(t, time.Date(2026, 1, 7, 1, 3, 47, 0, time.UTC), e.data.NotBefore)
	assert.Equal(t, time.Date(2026, 1, 14, 1, 3, 47, 0, time.UTC), e.data.NotAfter)

	// A new simulator knows none of the old tokens: the source's is
	// answered 401 and fetched again, and the event's new state comes
	// through.
	a.stop()
	b := startAEMM(t, a.port, "events", "--code", "instance-stop", "--state", "completed",
		"--not-before", "2026-01-07T01:03:47Z", "--not-after", "2026-01-14T01:03:47Z")
	evs = maintEvents(t, host, 2)
	assert.Equal(t, MaintenanceCompleted, evs[1].data.State)
	assert.Equal(t, e.data.EventID, evs[1].data.EventID)
	r.stop()

	run(t, awsConfig(b.URL), host, pipeline.NopSettings("aws"))
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, host.Events(), 2, "a restart reports nothing again")
}

// completed and canceled events are reported as such.
func TestAWSCompletedAndCanceled(t *testing.T) {
	for state, want := range map[string]string{"completed": MaintenanceCompleted, "canceled": MaintenanceCancelled} {
		t.Run(state, func(t *testing.T) {
			a := startAEMM(t, 0, "events", "--code", "system-maintenance", "--state", state)
			r := start(t, awsConfig(a.URL))
			evs := maintEvents(t, r.host, 1)
			time.Sleep(100 * time.Millisecond)
			assert.Len(t, r.host.Events(), 1)
			assert.Equal(t, want, evs[0].data.State)
			assert.Equal(t, "system-maintenance", evs[0].data.Kind)
		})
	}
}

// A spot interruption notice and a rebalance recommendation (404 when
// absent, the normal case) are one event each.
func TestAWSSpotAndRebalance(t *testing.T) {
	a := startAEMM(t, 0, "spot", "--action", "stop", "--time", "2026-12-03T06:30:00Z", "--rebalance-rec-time", "2026-12-03T06:00:00Z")
	r := start(t, awsConfig(a.URL))
	evs := maintEvents(t, r.host, 2)
	time.Sleep(100 * time.Millisecond)
	require.Len(t, r.host.Events(), 2)
	byType := map[string]maint{}
	for _, e := range evs {
		byType[e.data.Kind] = e
	}
	spot := byType["spot-stop"]
	assert.Equal(t, MaintenanceScheduled, spot.data.State)
	assert.Equal(t, time.Date(2026, 12, 3, 6, 30, 0, 0, time.UTC), spot.data.NotBefore)
	reb := byType["rebalance-recommendation"]
	assert.Equal(t, time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC), reb.data.NoticeTime)
}

func TestParseAWS(t *testing.T) {
	obs, err := parseAWSScheduled([]byte(`[
  {
    "NotBefore" : "21 Jan 2019 09:00:43 GMT",
    "Code" : "system-reboot",
    "Description" : "scheduled reboot",
    "EventId" : "instance-event-0d59937288b749b32",
    "NotAfter" : "21 Jan 2019 09:17:23 GMT",
    "State" : "active"
  }
]`), "vm") // samples/cloud-events/aws/scheduled-events-nth-comment.json
	require.NoError(t, err)
	require.Len(t, obs, 1)
	assert.Equal(t, time.Date(2019, 1, 21, 9, 0, 43, 0, time.UTC), obs[0].notBefore)
	assert.Equal(t, MaintenanceScheduled, obs[0].state)
	for _, bad := range []string{`{}`, `[{"EventId": "x", "State": "done"}]`, `[{"State": "active"}]`,
		`[{"EventId": "x", "State": "active", "NotBefore": "tomorrow"}]`, `[{"EventId": "x", "State": "active"}, {"EventId": "x", "State": "active"}]`} {
		_, err := parseAWSScheduled([]byte(bad), "vm")
		require.ErrorIs(t, err, ErrMalformed, bad)
	}
	_, err = parseAWSSpot([]byte(`{"action": "terminate"}`), "vm")
	require.ErrorIs(t, err, ErrMalformed)
	_, err = parseAWSRebalance([]byte(`{"noticeTime": 5}`), "vm")
	require.ErrorIs(t, err, ErrMalformed)
}

func FuzzAWSMetadata(f *testing.F) {
	f.Add([]byte(`[{"NotBefore":"21 Jan 2019 09:00:43 GMT","Code":"system-reboot","EventId":"instance-event-0d59937288b749b32","State":"active"}]`))
	f.Add([]byte(`{"action":"terminate","time":"2026-12-03T05:59:56Z"}`))
	f.Add([]byte(`{"noticeTime":"2026-12-03T05:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if obs, err := parseAWSScheduled(b, "vm"); err == nil {
			for _, o := range obs {
				if o.id == "" || o.state == "" {
					t.Fatalf("accepted %+v", o)
				}
			}
		}
		_, _ = parseAWSSpot(b, "vm")
		_, _ = parseAWSRebalance(b, "vm")
	})
}
