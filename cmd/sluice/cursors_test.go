package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// cursorJournal creates a stopped engine's journal with 10 records, the
// cursor of configured sink "out" at 9 (with state) and an orphan "old"
// at 3, and a config file whose only sink is "out".
func cursorJournal(t *testing.T) (dir, cfg string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "j")
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = j.Append(ctx, pipeline.AppendBatch{Events: journaltest.Events(0, 10)})
	require.NoError(t, err)
	require.NoError(t, j.CommitCursor(ctx, "out", 9, pipeline.StateUpdate{Key: "k", Value: []byte("v")}))
	require.NoError(t, j.CommitCursor(ctx, "old", 3, pipeline.StateUpdate{Key: "k", Value: []byte("v")}))
	require.NoError(t, j.Close(ctx))
	cfg = filepath.Join(root, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`journal: {dir: `+dir+`}
admin: {listen: "off"}
sources: [{name: hb, type: heartbeat, with: {interval: 1h}}]
sinks: [{name: out, type: stdout}]
routes: [{name: all, from: [hb], to: [out]}]
`), 0o600))
	return dir, cfg
}

func decodeCursors(t *testing.T, out string) map[string]cursorView {
	t.Helper()
	var cs []cursorView
	require.NoError(t, json.Unmarshal([]byte(out), &cs), out)
	m := map[string]cursorView{}
	for _, c := range cs {
		m[c.Name] = c
	}
	return m
}

func TestCursorsCommandsOffline(t *testing.T) {
	t.Parallel()
	dir, cfg := cursorJournal(t)
	code, out, errOut := sluice(t, "journal", "-c", cfg, "cursors", "list")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, "CURSOR")
	assert.Regexp(t, `old\s+3\s+8\s+orphan`, out)
	assert.Regexp(t, `out\s+9\s+2\s+configured`, out)

	code, out, errOut = sluice(t, "journal", "--dir", dir, "cursors", "list", "--json")
	require.Zero(t, code, errOut)
	assert.Equal(t, cursorView{Name: "old", Next: 3, Backlog: 8, Sink: cursorUnknown}, decodeCursors(t, out)["old"])

	code, out, errOut = sluice(t, "journal", "-c", cfg, "cursors", "set", "out", "2")
	require.Zero(t, code, errOut)
	assert.Equal(t, "cursor out now reads from 2\n", out)
	code, _, errOut = sluice(t, "journal", "-c", cfg, "cursors", "set", "out", "yesterday")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "RFC 3339")
	code, out, errOut = sluice(t, "journal", "-c", cfg, "cursors", "set", "out", time.Now().Add(time.Hour).Format(time.RFC3339))
	require.Zero(t, code, errOut)
	assert.Equal(t, "cursor out now reads from 11\n", out, "a time after every record is the next sequence")
	code, _, errOut = sluice(t, "journal", "-c", cfg, "cursors", "set", "out", "12")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "beyond the head")

	code, out, errOut = sluice(t, "journal", "-c", cfg, "cursors", "delete", "old")
	require.Zero(t, code, errOut)
	assert.Equal(t, "cursor old deleted\n", out)

	j, err := journal.Open(dir, journal.Options{ReadOnly: true})
	require.NoError(t, err)
	defer func() { _ = j.Close(context.Background()) }()
	st, err := j.Stats(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"out": 11}, st.Cursors)
	state, err := j.ConsumerState(context.Background(), "out")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"k": []byte("v")}, state, "set keeps the state")
	state, err = j.ConsumerState(context.Background(), "old")
	require.NoError(t, err)
	assert.Empty(t, state, "delete removes the state")

	code, _, errOut = sluice(t, "journal", "--dir", filepath.Join(dir, "none"), "cursors", "delete", "x")
	require.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "journal not found")
	assert.NoDirExists(t, filepath.Join(dir, "none"))
}

// TestCursorsCommandsOnline runs the commands against a journal held
// open, as a running engine holds it, through the admin endpoints.
func TestCursorsCommandsOnline(t *testing.T) {
	t.Parallel()
	dir, _ := cursorJournal(t)
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	a := &admin{journal: j, ready: func() bool { return true }, metrics: http.NotFoundHandler(), log: pipeline.NopSettings("admin").Logger,
		audit: auditDeps{spec: pipeline.Spec{Sinks: []pipeline.SinkSpec{{Name: "out"}}}}}
	sock := serveAdminSocket(t, dir, a)
	cur := func(args ...string) (int, string, string) {
		return sluice(t, append([]string{"journal", "--dir", dir, "cursors"}, args...)...)
	}

	code, out, errOut := cur("list", "--json")
	require.Zero(t, code, errOut)
	cs := decodeCursors(t, out)
	assert.Equal(t, cursorView{Name: "out", Next: 9, Backlog: 2, Sink: cursorConfigured}, cs["out"], "the engine knows its sinks")
	assert.Equal(t, cursorView{Name: "old", Next: 3, Backlog: 8, Sink: cursorOrphan}, cs["old"])

	code, _, errOut = cur("set", "out", "1")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "running in this engine")
	code, _, errOut = cur("delete", "out")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "running in this engine")

	code, out, errOut = cur("set", "old", "1")
	require.Zero(t, code, errOut)
	assert.Equal(t, "cursor old now reads from 1\n", out)
	next, err := j.Cursor(context.Background(), "old")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), next)

	code, _, errOut = cur("delete", "old")
	require.Zero(t, code, errOut)
	st, err := j.Stats(context.Background())
	require.NoError(t, err)
	assert.NotContains(t, st.Cursors, "old")

	// The mutating endpoints need the admin header.
	resp, err := socketClient(sock).client.Post("http://sluice-admin/journal/cursors/x/delete", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}
