package vmfaultsource

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/vmfaultsource/internal/fakegce"
)

func gcpConfig(url string) *Config {
	c := defaultConfig()
	c.Provider = ProviderGCP
	c.Endpoint = url
	c.VMName = "instance-1"
	c.Interval = 10 * time.Millisecond
	c.Timeout = 2 * time.Second
	c.Retry = pipeline.RetryConfig{Initial: 5 * time.Millisecond, Max: 40 * time.Millisecond, Multiplier: 2, Jitter: 0.1}
	return c
}

// The source hangs on wait_for_change with the last ETag (no polling
// while nothing changes); a live migration is one scheduled and one
// completed event; a restart reports nothing again; 503s are retried.
func TestGCPHangingGetWithETag(t *testing.T) {
	f := fakegce.New()
	t.Cleanup(f.Close)
	host := pipelinetest.NewRecordingHost("gcp")
	r := run(t, gcpConfig(f.URL), host, pipeline.NopSettings("gcp"))
	require.Eventually(t, func() bool { return f.Hanging(fakegce.Path) == 1 && f.Hanging(fakegce.UpcomingPath) == 1 }, 5*time.Second, time.Millisecond)
	gets := f.Gets()
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, gets, f.Gets(), "a hanging GET, not polling")
	assert.Empty(t, host.Events())

	f.Set("MIGRATE_ON_HOST_MAINTENANCE")
	evs := maintEvents(t, host, 1)
	assert.Equal(t, MaintenanceScheduled, evs[0].data.State)
	assert.Equal(t, "MIGRATE_ON_HOST_MAINTENANCE", evs[0].data.Kind)
	assert.Equal(t, ProviderGCP, evs[0].data.Provider)
	r.stop()

	run(t, gcpConfig(f.URL), host, pipeline.NopSettings("gcp"))
	require.Eventually(t, func() bool { return f.Hanging(fakegce.Path) == 1 && f.Hanging(fakegce.UpcomingPath) == 1 }, 5*time.Second, time.Millisecond)
	assert.Len(t, host.Events(), 1, "the restart reports nothing again")

	f.Inject503(3)
	f.Set("NONE")
	evs = maintEvents(t, host, 2)
	assert.Equal(t, MaintenanceCompleted, evs[1].data.State)
	assert.Equal(t, evs[0].data.EventID, evs[1].data.EventID)
}

func TestParseGCPValue(t *testing.T) {
	for _, ok := range []string{"NONE", "MIGRATE_ON_HOST_MAINTENANCE", "TERMINATE_ON_HOST_MAINTENANCE\n"} {
		_, err := parseGCPValue([]byte(ok))
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "<html>", "none", string(make([]byte, 200))} {
		_, err := parseGCPValue([]byte(bad))
		require.ErrorIs(t, err, ErrMalformed, bad)
	}
}

func FuzzGCPValue(f *testing.F) {
	f.Add([]byte("NONE"))
	f.Add([]byte("MIGRATE_ON_HOST_MAINTENANCE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := parseGCPValue(b); err == nil && (v == "" || len(v) > gcpMaxValue) {
			t.Fatalf("accepted %q", v)
		}
	})
}
