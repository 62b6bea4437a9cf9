package vmfaultsource

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/vmfaultsource/internal/fakegce"
)

// An upcoming-maintenance window (Google's documented example) is one
// scheduled event with its window, started when ONGOING, completed when
// it is gone; a restart reports nothing again; maintenance-event is
// followed alongside.
func TestGCPUpcomingMaintenance(t *testing.T) {
	f := fakegce.New()
	t.Cleanup(f.Close)
	host := pipelinetest.NewRecordingHost("gcp")
	r := run(t, gcpConfig(f.URL), host, pipeline.NopSettings("gcp"))
	require.Eventually(t, func() bool { return f.Hanging(fakegce.UpcomingPath) == 1 }, 5*time.Second, time.Millisecond)

	f.SetUpcoming(fakegce.UpcomingExample)
	e := maintEvents(t, host, 1)[0]
	assert.Equal(t, MaintenanceScheduled, e.data.State)
	assert.Equal(t, "gcp-upcoming-SCHEDULED-20241201T190001Z", e.data.EventID)
	assert.Equal(t, "SCHEDULED", e.data.Kind)
	assert.Equal(t, "PENDING", e.data.Status)
	assert.Equal(t, time.Date(2024, 12, 1, 19, 0, 1, 0, time.UTC), e.data.NotBefore)
	assert.Equal(t, time.Date(2024, 12, 1, 21, 0, 1, 0, time.UTC), e.data.NotAfter)
	assert.Contains(t, e.data.Description, "PLANNED_NETWORK_UPDATE")
	r.stop()

	r = run(t, gcpConfig(f.URL), host, pipeline.NopSettings("gcp"))
	require.Eventually(t, func() bool { return f.Hanging(fakegce.UpcomingPath) == 1 }, 5*time.Second, time.Millisecond)
	assert.Len(t, host.Events(), 1, "the restart reports nothing again")
	f.SetUpcoming(strings.Replace(fakegce.UpcomingExample, "PENDING", "ONGOING", 1))
	f.Set("MIGRATE_ON_HOST_MAINTENANCE")
	maintEvents(t, host, 3)
	f.SetUpcoming("{ }")
	evs := maintEvents(t, host, 4)
	byID := map[string][]string{}
	for _, e := range evs {
		byID[e.data.EventID] = append(byID[e.data.EventID], e.data.State)
	}
	assert.Equal(t, []string{MaintenanceScheduled, MaintenanceStarted, MaintenanceCompleted}, byID["gcp-upcoming-SCHEDULED-20241201T190001Z"])
	assert.Len(t, byID, 2)
	r.stop()
}

// A machine family without upcoming-maintenance (404) is "nothing
// upcoming", asked again a minute later, not polled.
func TestGCPUpcomingMissing(t *testing.T) {
	f := fakegce.New()
	t.Cleanup(f.Close)
	f.SetUpcomingMissing()
	host := pipelinetest.NewRecordingHost("gcp")
	run(t, gcpConfig(f.URL), host, pipeline.NopSettings("gcp"))
	require.Eventually(t, func() bool { return f.Hanging(fakegce.Path) == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	gets := f.Gets()
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, gets, f.Gets(), "neither key is polled")
	assert.Empty(t, host.Events())
	f.Set("TERMINATE_ON_HOST_MAINTENANCE")
	assert.Equal(t, "TERMINATE_ON_HOST_MAINTENANCE", maintEvents(t, host, 1)[0].data.Kind)
}

func TestParseGCPUpcoming(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		state     string // "" for none
		bad       string // error substring
	}{
		{"documented example", fakegce.UpcomingExample, MaintenanceScheduled, ""},
		{"camelCase", `{"maintenanceStatus":"ONGOING","windowStartTime":"2024-12-01T19:00:01Z","canReschedule":false,"type":"UNSCHEDULED"}`, MaintenanceStarted, ""},
		{"complete", `{"maintenance_status":"COMPLETE","window_start_time":"2024-12-01T19:00:01Z"}`, MaintenanceCompleted, ""},
		{"none", `{}`, "", ""},
		{"empty", " \n", "", ""},
		{"not JSON", `<html>`, "", "invalid character"},
		{"array", `[]`, "", "cannot unmarshal"},
		{"unknown status", `{"maintenance_status":"MAYBE","window_start_time":"2024-12-01T19:00:01Z"}`, "", "unknown maintenance_status"},
		{"no status", `{"window_start_time":"2024-12-01T19:00:01Z"}`, "", "maintenancestatus missing"},
		{"no start", `{"maintenance_status":"PENDING"}`, "", "windowstarttime missing"},
		{"bad time", `{"maintenance_status":"PENDING","window_start_time":"tomorrow"}`, "", "not RFC 3339"},
		{"status a number", `{"maintenance_status":1,"window_start_time":"2024-12-01T19:00:01Z"}`, "", "not a string"},
		{"reasons a string", `{"maintenance_status":"PENDING","window_start_time":"2024-12-01T19:00:01Z","maintenance_reasons":"X"}`, "", "not a list"},
		{"reschedule odd", `{"maintenance_status":"PENDING","window_start_time":"2024-12-01T19:00:01Z","can_reschedule":"yes"}`, "", "not a boolean"},
		{"type lower", `{"maintenance_status":"PENDING","window_start_time":"2024-12-01T19:00:01Z","type":"x/y"}`, "", "unexpected type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := parseGCPUpcoming([]byte(tc.doc))
			if tc.bad != "" {
				require.ErrorIs(t, err, ErrMalformed)
				assert.Contains(t, err.Error(), tc.bad)
				return
			}
			require.NoError(t, err)
			if tc.state == "" {
				assert.Nil(t, u)
				return
			}
			require.NotNil(t, u)
			assert.Equal(t, tc.state, u.state)
		})
	}
}

// FuzzGCPUpcoming: any answer is a window with a known state and a
// start, nothing, or an error; never a panic.
func FuzzGCPUpcoming(f *testing.F) {
	f.Add([]byte(fakegce.UpcomingExample))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"maintenanceStatus":"ONGOING","windowStartTime":"2024-12-01T19:00:01Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := parseGCPUpcoming(b)
		if err != nil || u == nil {
			return
		}
		if u.state == "" || u.WindowStart.IsZero() || !gcpWord(u.Type) {
			t.Fatalf("accepted %+v from %q", u, b)
		}
	})
}
