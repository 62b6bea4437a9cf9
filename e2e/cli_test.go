package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := crashConfig(t, dir, "127.0.0.1:18088", "127.0.0.1:19464")
	bad := writeFile(t, dir, "bad.yaml", `journal:
  dir: ./j
  retension: {max_age: 1h}
sources:
  - name: in
    type: htp
sinks:
  - name: out
    type: file
    with: {path: ./x.jsonl, colour: red}
routes:
  - name: r
    from: [in]
    to: [nowhere]
`)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{name: "valid file", args: []string{"validate", "-c", good}, wantOut: []string{"ok"}},
		{name: "embedded default", args: []string{"validate"}, wantOut: []string{"<embedded>/default.yaml: ok"}},
		{name: "every error at once", args: []string{"validate", "-c", bad}, wantCode: 3, wantErr: []string{
			bad + ":3:3: ", "retension",
			bad + ":6:11: ", "htp",
			bad + ":10:29: ", "colour",
			bad + ":14:10: ", "nowhere",
		}},
		{name: "missing file", args: []string{"validate", "-c", filepath.Join(dir, "nope.yaml")}, wantCode: 3, wantErr: []string{"nope.yaml"}},
		{name: "unknown flag", args: []string{"validate", "--bogus"}, wantCode: 2, wantErr: []string{"unknown flag"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2},
		{name: "version", args: []string{"version"}, wantOut: []string{"sluice "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := sluice(t, nil, tt.args...)
			require.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			for _, w := range tt.wantOut {
				assert.Contains(t, out, w)
			}
			for _, w := range tt.wantErr {
				assert.Contains(t, errOut, w)
			}
		})
	}
}

// TestRunningEngine checks the admin listener, `journal` commands through
// it, and that a second engine on the same journal fails at once.
func TestRunningEngine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := crashConfig(t, dir, ingest, admin)
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)

	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 20 {
		require.Equal(t, http.StatusAccepted, postEvent(client, "http://"+ingest+"/events", fmt.Sprintf("ev-%d", i)))
	}
	resp, err := client.Get("http://" + admin + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = client.Get("http://" + admin + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	out, errOut, code := sluice(t, nil, "journal", "stats", "-c", cfg)
	require.Zero(t, code, errOut)
	var st struct {
		Last    uint64            `json:"last"`
		Cursors map[string]uint64 `json:"cursors"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Equal(t, uint64(20), st.Last)

	out, errOut, code = sluice(t, nil, "journal", "tail", "-c", cfg, "-n", "3")
	require.Zero(t, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[2], `"id":"ev-19"`)

	// A second engine on the same journal gets "journal in use" at once.
	start := time.Now()
	_, errOut, code = sluice(t, nil, "run", "-c", cfg)
	require.Equal(t, 4, code, errOut)
	assert.Contains(t, errOut, "journal in use")
	assert.Less(t, time.Since(start), 10*time.Second)

	require.NoError(t, e.stop(30*time.Second))
	// Stopped: the same commands read the journal directly.
	out, errOut, code = sluice(t, nil, "journal", "stats", "--dir", filepath.Join(dir, "journal"))
	require.Zero(t, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Equal(t, uint64(20), st.Last)
	require.Equal(t, uint64(21), st.Cursors["archive"], "the archive cursor is committed at shutdown")
}

// TestDefaultConfigShowsEventsFlowing runs `sluice run` with no -c, as the
// README's first command does, and sees heartbeats and an ingested event
// on stdout and in the archive.
func TestDefaultConfigShowsEventsFlowing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	e := startEngine(t, "", "SLUICE_DATA="+dir, "SLUICE_INGEST="+ingest, "SLUICE_ADMIN="+admin)
	e.waitReady(admin, 30*time.Second)
	require.Equal(t, http.StatusAccepted, postEvent(&http.Client{Timeout: 5 * time.Second}, "http://"+ingest+"/events", "hello-default"))
	require.Eventually(t, func() bool {
		out := e.stdout.String()
		return strings.Contains(out, "sluice.heartbeat") && strings.Contains(out, "e2e.test")
	}, 20*time.Second, 50*time.Millisecond, "stdout: %s", e.stdout.String())
	require.Eventually(t, func() bool {
		return len(readLines(t, filepath.Join(dir, "events.jsonl"))) >= 2
	}, 20*time.Second, 50*time.Millisecond)
	require.NoError(t, e.stop(30*time.Second))
}
