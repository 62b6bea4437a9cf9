package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reloadStatus is the part of /api/v1/status the reload tests read.
type reloadStatus struct {
	Config struct {
		Hash       string `json:"hash"`
		LastReload *struct {
			Outcome   string   `json:"outcome"`
			Trigger   string   `json:"trigger"`
			Added     []string `json:"added"`
			Removed   []string `json:"removed"`
			Restarted []string `json:"restarted"`
			Rerouted  []string `json:"rerouted"`
		} `json:"last_reload"`
		LastReloadError string `json:"last_reload_error"`
	} `json:"config"`
	Sinks []struct {
		Name   string `json:"name"`
		Cursor uint64 `json:"cursor"`
	} `json:"sinks"`
}

// getStatus reads GET /api/v1/status on the admin socket of the engine
// whose journal is in dir (the API is on the socket only by default).
func getStatus(t *testing.T, dir string) reloadStatus {
	t.Helper()
	var d net.Dialer
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", filepath.Join(dir, "journal", "admin.sock"))
		},
	}}
	resp, err := client.Get("http://sluice/api/v1/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st reloadStatus
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

func reloadConfig(dir, ingest, admin, sinks, routes string) string {
	return fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: "%[3]s"}
shutdown_timeout: 10s
sources:
  - {name: ingest, type: http, with: {listen: "%[2]s"}}
sinks:
%[4]s
routes:
%[5]s
`, dir, ingest, admin, sinks, routes)
}

// SIGHUP reloads the configuration while events flow: a sink whose file
// changed restarts on the new file, an unchanged one goes on, a new one
// starts from the oldest record; every event lands exactly once in each.
// A configuration with errors is refused, logged with its errors, shown
// in the status, and the running one stays.
func TestReloadWhileEventsFlow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	file := func(name string) string { return filepath.Join(dir, name) }
	sink := func(name, path string) string {
		return fmt.Sprintf("  - {name: %s, type: file, with: {path: %q}}\n", name, file(path))
	}
	cfg := writeFile(t, dir, "sluice.yaml", reloadConfig(dir, ingest, admin,
		sink("a", "a1.jsonl")+sink("b", "b.jsonl"), "  - {name: r, from: [ingest], to: [a, b]}"))
	e := startEngineArgs(t, "run", "-c", cfg)
	e.waitReady(admin, 30*time.Second)
	first := getStatus(t, dir).Config.Hash
	require.NotEmpty(t, first)

	client := &http.Client{Timeout: 10 * time.Second}
	var sent atomic.Int64
	stop := make(chan struct{})
	posted := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				posted <- nil
				return
			default:
			}
			if code := postEvent(client, "http://"+ingest+"/events", fmt.Sprintf("ev-%d", i)); code != http.StatusAccepted {
				posted <- fmt.Errorf("event %d: status %d", i, code)
				return
			}
			sent.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	require.Eventually(t, func() bool { return sent.Load() > 50 }, 10*time.Second, time.Millisecond)

	writeFile(t, dir, "sluice.yaml", reloadConfig(dir, ingest, admin,
		sink("a", "a2.jsonl")+sink("b", "b.jsonl")+sink("c", "c.jsonl"), "  - {name: r, from: [ingest], to: [a, b, c]}"))
	require.NoError(t, e.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool {
		st := getStatus(t, dir)
		return st.Config.Hash != first && st.Config.LastReload != nil
	}, 10*time.Second, 10*time.Millisecond, "stderr: %s", e.stderr.String())
	st := getStatus(t, dir)
	assert.Equal(t, "applied", st.Config.LastReload.Outcome)
	assert.Equal(t, []string{"sink a"}, st.Config.LastReload.Restarted)
	assert.Equal(t, []string{"sink c"}, st.Config.LastReload.Added)
	assert.Empty(t, st.Config.LastReload.Rerouted, "b's routes to b did not change")
	assert.Empty(t, st.Config.LastReload.Removed)
	second := st.Config.Hash
	time.Sleep(100 * time.Millisecond) // events flow over the new config

	// A broken configuration is refused; the running one stays.
	writeFile(t, dir, "sluice.yaml", reloadConfig(dir, ingest, admin,
		sink("a", "a2.jsonl")+"  - {name: z, type: nosuch}\n", "  - {name: r, from: [ingest], to: [a, z]}"))
	require.NoError(t, e.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return getStatus(t, dir).Config.LastReloadError != "" }, 10*time.Second, 10*time.Millisecond)
	st = getStatus(t, dir)
	assert.Equal(t, second, st.Config.Hash, "the running configuration stays")
	assert.Contains(t, st.Config.LastReloadError, `unknown sink type "nosuch"`)
	assert.Contains(t, e.stderr.String(), "configuration reload refused; the running configuration stays")
	assert.Contains(t, e.stderr.String(), "sluice.yaml:", "the errors are logged at their place")

	close(stop)
	require.NoError(t, <-posted)
	n := int(sent.Load())
	require.NoError(t, e.stop(30*time.Second))

	ids := func(paths ...string) []string {
		var out []string
		for _, p := range paths {
			for _, line := range readLines(t, file(p)) {
				var ev struct {
					ID string `json:"id"`
				}
				require.NoError(t, json.Unmarshal([]byte(line), &ev))
				out = append(out, ev.ID)
			}
		}
		return out
	}
	for name, paths := range map[string][]string{"a": {"a1.jsonl", "a2.jsonl"}, "b": {"b.jsonl"}, "c": {"c.jsonl"}} {
		got := ids(paths...)
		assert.Len(t, got, n, "sink %s: every event once", name)
		uniq := slices.Compact(slices.Sorted(slices.Values(got)))
		assert.Len(t, uniq, n, "sink %s: no duplicates", name)
	}
	assert.NotEmpty(t, ids("a1.jsonl"), "a delivered to its old file before the reload")
	assert.NotEmpty(t, ids("a2.jsonl"), "and to the new one after")
}

// With --watch, saving the file reloads it: a refused file is tried once
// (not again every second), a good one is applied.
func TestReloadWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	sinks := fmt.Sprintf("  - {name: a, type: file, with: {path: %q}}\n", filepath.Join(dir, "a.jsonl"))
	cfg := writeFile(t, dir, "sluice.yaml", reloadConfig(dir, ingest, admin, sinks, "  - {name: r, from: [ingest], to: [a]}"))
	e := startEngineArgs(t, "run", "-c", cfg, "--watch")
	e.waitReady(admin, 30*time.Second)

	writeFile(t, dir, "sluice.yaml", reloadConfig(dir, ingest, admin, sinks, "  - {name: r, from: [ingest], to: [a]\n"))
	require.Eventually(t, func() bool { return getStatus(t, dir).Config.LastReloadError != "" }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(2500 * time.Millisecond)
	assert.Equal(t, 1, strings.Count(e.stderr.String(), "reload refused"), "tried once: %s", e.stderr.String())

	sinks += fmt.Sprintf("  - {name: b, type: file, with: {path: %q}}\n", filepath.Join(dir, "b.jsonl"))
	writeFile(t, dir, "sluice.yaml", reloadConfig(dir, ingest, admin, sinks, "  - {name: r, from: [ingest], to: [a, b]}"))
	require.Eventually(t, func() bool {
		st := getStatus(t, dir)
		return st.Config.LastReload != nil && st.Config.LastReload.Outcome == "applied"
	}, 10*time.Second, 20*time.Millisecond, "stderr: %s", e.stderr.String())
	st := getStatus(t, dir)
	assert.Equal(t, "watch", st.Config.LastReload.Trigger)
	assert.Equal(t, []string{"sink b"}, st.Config.LastReload.Added)
	assert.Empty(t, st.Config.LastReloadError)
	require.Equal(t, http.StatusAccepted, postEvent(&http.Client{Timeout: 5 * time.Second}, "http://"+ingest+"/events", "w-1"))
	require.Eventually(t, func() bool { return len(readLines(t, filepath.Join(dir, "b.jsonl"))) == 1 }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, e.stop(30*time.Second))
}

// startEngineArgs starts sluice with args, as startEngine does.
func startEngineArgs(t *testing.T, args ...string) *engine {
	t.Helper()
	e := &engine{t: t, stderr: &lockedBuffer{}, stdout: &lockedBuffer{}, done: make(chan struct{})}
	e.cmd = exec.Command(sluiceBin, args...)
	e.cmd.Env = os.Environ()
	e.cmd.Stderr, e.cmd.Stdout = e.stderr, e.stdout
	require.NoError(t, e.cmd.Start())
	go func() {
		e.err = e.cmd.Wait()
		close(e.done)
	}()
	t.Cleanup(func() {
		_ = e.cmd.Process.Kill()
		<-e.done
		if t.Failed() {
			t.Logf("sluice stderr:\n%s", e.stderr.String())
		}
	})
	return e
}
