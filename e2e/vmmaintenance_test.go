package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakeimds"
)

// approvalConfig is an Azure maintenance source whose scheduled events a
// route turns into approvals for the same source (through a `source`
// sink named approvals, handing to source), every maintenance event also
// written to out.jsonl.
func approvalConfig(t *testing.T, imds, source string) (dir, admin, cfg string) {
	t.Helper()
	dir = t.TempDir()
	admin = freeAddr(t)
	cfg = writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: %[2]s}
log: {level: warn}
sources:
  - name: maintenance
    type: vmfault
    with: {provider: azure, endpoint: "%[3]s", vm_name: WestNO_0, interval: 50ms}
sinks:
  - name: approvals
    type: source
    with: {source: %[4]s}
    retry: {initial: 50ms, max: 200ms}
  - name: out
    type: file
    with: {path: %[1]s/out.jsonl}
routes:
  - name: approve-freezes
    from: [maintenance]
    to: [approvals]
    match:
      types: [sluice.vm.maintenance]
      expr: 'event.data.approvable && event.data.kind == "Freeze"'
    transform: {type: sluice.vm.maintenance.approve}
  - name: all
    from: [maintenance]
    to: [out]
`, dir, admin, imds, source))
	return dir, admin, cfg
}

// A route approves Azure maintenance through the binary: the scheduled
// Freeze of the documented live-migration sequence, transformed into a
// sluice.vm.maintenance.approve event and handed by the `source` sink to
// the vmfault source, is one StartRequests POST with its EventId and one
// approved event; the rest of the sequence (started, completed) follows,
// and nothing is approved twice.
func TestVMMaintenanceApprovedThroughARoute(t *testing.T) {
	t.Parallel()
	imds := fakeimds.New()
	t.Cleanup(imds.Close)
	imds.ServeSample(fakeimds.LiveMigration[1])
	dir, admin, cfg := approvalConfig(t, imds.URL, "maintenance")
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)

	const eventID = "C7061BAC-AFDC-4513-B24B-AA5F13A16123"
	require.Eventually(t, func() bool { return len(imds.Approved()) > 0 }, 30*time.Second, 10*time.Millisecond, "StartRequests")
	assert.Equal(t, []string{eventID}, imds.Approved())
	states := func() []string {
		var out []string
		for _, l := range readLines(t, dir+"/out.jsonl") {
			var ev struct {
				Type string `json:"type"`
				Data struct {
					EventID string `json:"event_id"`
					State   string `json:"state"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal([]byte(l), &ev), l)
			require.Equal(t, "sluice.vm.maintenance", ev.Type)
			require.Equal(t, eventID, ev.Data.EventID)
			out = append(out, ev.Data.State)
		}
		return out
	}
	require.Eventually(t, func() bool { return len(states()) >= 2 }, 30*time.Second, 10*time.Millisecond)
	imds.ServeSample(fakeimds.LiveMigration[2]) // Started
	require.Eventually(t, func() bool { return len(states()) >= 3 }, 30*time.Second, 10*time.Millisecond)
	imds.ServeSample(fakeimds.LiveMigration[3]) // gone: completed
	require.Eventually(t, func() bool { return len(states()) >= 4 }, 30*time.Second, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // more polls
	require.NoError(t, e.stop(30*time.Second))
	assert.Equal(t, []string{"scheduled", "approved", "started", "completed"}, states())
	assert.Equal(t, []string{eventID}, imds.Approved(), "approved once")
}

// `sluice validate` refuses a source sink naming a source that does not
// exist.
func TestValidateSourceSinkNamesAHandler(t *testing.T) {
	t.Parallel()
	_, _, cfg := approvalConfig(t, "http://127.0.0.1:1", "nope")
	_, stderr, code := sluice(t, nil, "validate", "-c", cfg)
	assert.NotZero(t, code)
	assert.Contains(t, stderr, `unknown source "nope"`)
}
