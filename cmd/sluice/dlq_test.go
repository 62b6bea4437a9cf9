package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// sluiceIn is sluice with stdin.
func sluiceIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// testLetters are two letters of sink "web" and one of sink "mail"; web/3
// failed two hours ago, the others a minute ago.
func testLetters(now time.Time) []pipeline.DeadLetter {
	mk := func(sink string, seq uint64, reason, lastErr string, age time.Duration) pipeline.DeadLetter {
		return pipeline.DeadLetter{
			Sink: sink, Route: "to-" + sink, Seq: seq, Key: "k", Reason: reason, Attempts: 2,
			Event:      pipeline.Event{ID: "ev-" + sink, Source: "/t", Type: "t.dl", Time: now, DataContentType: "application/json", Data: []byte(`{"poison":true}`)},
			FirstError: lastErr, LastError: lastErr, FirstAt: now.Add(-age), LastAt: now.Add(-age),
		}
	}
	return []pipeline.DeadLetter{
		mk("web", 3, pipeline.ReasonPermanent, "status 400 Bad Request: poison\nsecond line", 2*time.Hour),
		mk("web", 5, pipeline.ReasonRetriesExhausted, "status 503 Service Unavailable", time.Minute),
		mk("mail", 4, pipeline.ReasonPermanent, "status 422 Unprocessable Entity "+strings.Repeat("x", 200), time.Minute),
	}
}

// dlqJournal creates a stopped engine's journal holding testLetters.
func dlqJournal(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "j")
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	require.NoError(t, j.PutDeadLetters(context.Background(), testLetters(time.Now())))
	require.NoError(t, j.Close(context.Background()))
	return dir
}

func TestDLQCommandsOffline(t *testing.T) {
	t.Parallel()
	dir := dlqJournal(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		notOut   []string
		wantErr  string
	}{
		{name: "list", args: []string{"list"}, wantOut: []string{
			"SINK", "LAST_ERROR", "mail  4", "web   3", "web   5", "to-web", "status 400 Bad Request: poison second line", "…",
		}},
		{name: "list sink", args: []string{"list", "--sink", "mail"}, wantOut: []string{"mail"}, notOut: []string{"web"}},
		{name: "list reason", args: []string{"list", "--reason", "EXHAUSTED"}, wantOut: []string{"web   5"}, notOut: []string{"mail", "web   3"}},
		{name: "list since duration", args: []string{"list", "--since", "1h"}, wantOut: []string{"web   5", "mail"}, notOut: []string{"web   3"}},
		{name: "list until", args: []string{"list", "--until", time.Now().Add(-time.Hour).Format(time.RFC3339)}, wantOut: []string{"web   3"}, notOut: []string{"web   5"}},
		{name: "list none", args: []string{"list", "--sink", "nope"}, wantErr: "no dead letters"},
		{name: "list bad time", args: []string{"list", "--since", "yesterday"}, wantCode: exitUsage, wantErr: "RFC 3339"},
		{name: "show", args: []string{"show", "web", "3"}, wantOut: []string{
			`"sink": "web"`, `"seq": 3`, `"reason": "permanent"`, `"specversion": "1.0"`, `"id": "ev-web"`, `"poison": true`, `"sequence": "3"`,
		}},
		{name: "show missing", args: []string{"show", "web", "4"}, wantCode: exitFailure, wantErr: "no such dead letter"},
		{name: "show bad seq", args: []string{"show", "web", "x"}, wantCode: exitUsage},
		{name: "show needs two args", args: []string{"show", "web"}, wantCode: exitUsage},
		{name: "purge needs a filter", args: []string{"purge", "--yes"}, wantCode: exitUsage, wantErr: "--all"},
		{name: "purge filter and all", args: []string{"purge", "--all", "--sink", "web", "--yes"}, wantCode: exitUsage, wantErr: "not both"},
		{name: "purge bad seq", args: []string{"purge", "--seq", "x", "--yes"}, wantCode: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"journal", "dlq", "--dir", dir}, tt.args...)
			code, out, errOut := sluice(t, args...)
			require.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			for _, w := range tt.wantOut {
				assert.Contains(t, out, w)
			}
			for _, w := range tt.notOut {
				assert.NotContains(t, out, w)
			}
			assert.Contains(t, errOut, tt.wantErr)
		})
	}
}

func TestDLQListJSON(t *testing.T) {
	t.Parallel()
	dir := dlqJournal(t)
	code, out, errOut := sluice(t, "journal", "dlq", "list", "--json", "--dir", dir)
	require.Zero(t, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	var got []deadLetterView
	for _, line := range lines {
		var v deadLetterView
		require.NoError(t, json.Unmarshal([]byte(line), &v))
		got = append(got, v)
	}
	assert.Equal(t, "mail", got[0].Sink, "sorted by sink, then sequence")
	assert.Equal(t, uint64(3), got[1].Seq)
	assert.Equal(t, uint64(5), got[2].Seq)
	assert.Equal(t, pipeline.ReasonRetriesExhausted, got[2].Reason)
	assert.Equal(t, 2, got[2].Attempts)
	assert.Contains(t, string(got[0].Event), `"id":"ev-mail"`)
}

func TestDLQMutationsOffline(t *testing.T) {
	t.Parallel()
	dir := dlqJournal(t)
	dl := func(args ...string) (int, string, string) {
		return sluice(t, append([]string{"journal", "dlq", "--dir", dir}, args...)...)
	}
	code, out, errOut := dl("redrive", "--sink", "web", "--seq", "3,5")
	require.Zero(t, code, errOut)
	assert.Equal(t, "marked 2 dead letters for redrive; the engine delivers them when it next starts\n", out)
	code, out, _ = dl("redrive", "--sink", "nope")
	require.Zero(t, code)
	assert.Contains(t, out, "no dead letters match")
	code, out, _ = dl("list")
	require.Zero(t, code)
	assert.Equal(t, 2, strings.Count(out, "(redrive requested)"), out)

	// Purge asks first.
	code, out, errOut = sluiceIn(t, "n\n", "journal", "dlq", "--dir", dir, "purge", "--sink", "web")
	require.Equal(t, exitFailure, code, out)
	assert.Contains(t, errOut, "purge 2 dead letters? [y/N]")
	assert.Contains(t, errOut, "not confirmed")
	code, out, errOut = sluiceIn(t, "y\n", "journal", "dlq", "--dir", dir, "purge", "--sink", "web", "--reason", "503")
	require.Zero(t, code, errOut)
	assert.Equal(t, "purged 1 dead letter\n", out)
	code, out, _ = dl("purge", "--all", "--yes")
	require.Zero(t, code)
	assert.Equal(t, "purged 2 dead letters\n", out)
	code, out, _ = dl("purge", "--all")
	require.Zero(t, code)
	assert.Contains(t, out, "no dead letters match")

	// Mutations never create a journal.
	code, _, errOut = sluice(t, "journal", "dlq", "--dir", filepath.Join(dir, "none"), "redrive")
	require.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "journal not found")
	assert.NoDirExists(t, filepath.Join(dir, "none"))
}

// TestDLQCommandsOnline runs the commands against a journal held open, as
// a running engine holds it, through the admin endpoints.
func TestDLQCommandsOnline(t *testing.T) {
	t.Parallel()
	dir := dlqJournal(t)
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	a := &admin{journal: j, ready: func() bool { return true }, metrics: http.NotFoundHandler(), log: pipeline.NopSettings("admin").Logger}
	serveAdminSocket(t, dir, a)
	dl := func(args ...string) (int, string, string) {
		return sluice(t, append([]string{"journal", "dlq", "--dir", dir}, args...)...)
	}

	code, out, errOut := dl("list", "--since", "1h")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, "web   5")
	assert.NotContains(t, out, "web   3")
	code, out, errOut = dl("show", "mail", "4")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"id": "ev-mail"`)
	code, _, errOut = dl("show", "mail", "5")
	require.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "no such dead letter")

	wake := j.RedriveRequested()
	code, out, errOut = dl("redrive", "--reason", "status 4")
	require.Zero(t, code, errOut)
	assert.Equal(t, "marked 2 dead letters for redrive; the running engine is delivering them now\n", out)
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatal("the engine was not woken")
	}

	code, _, _ = dl("purge", "--sink", "web")
	require.Equal(t, exitFailure, code, "stdin is empty: not confirmed")
	code, out, errOut = dl("purge", "--sink", "web", "--yes")
	require.Zero(t, code, errOut)
	assert.Equal(t, "purged 2 dead letters\n", out)
	code, out, errOut = dl("purge", "--all", "--yes")
	require.Zero(t, code, errOut)
	assert.Equal(t, "purged 1 dead letter\n", out)
	code, out, errOut = dl("list", "--json")
	require.Zero(t, code, errOut)
	assert.Empty(t, out)
}

func TestAdminDLQEndpoints(t *testing.T) {
	t.Parallel()
	dir := dlqJournal(t)
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	a := &admin{journal: j, ready: func() bool { return true }, metrics: http.NotFoundHandler(), log: pipeline.NopSettings("admin").Logger}
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		method   string
		path     string
		header   bool
		wantCode int
		wantBody string
	}{
		{name: "list", method: http.MethodGet, path: "/dlq?sink=web&seq=5", wantCode: http.StatusOK, wantBody: `"seq":5`},
		{name: "list bad since", method: http.MethodGet, path: "/dlq?since=1h", wantCode: http.StatusBadRequest, wantBody: "RFC 3339"},
		{name: "list bad seq", method: http.MethodGet, path: "/dlq?seq=x", wantCode: http.StatusBadRequest, wantBody: "invalid seq"},
		{name: "show", method: http.MethodGet, path: "/dlq/mail/4", wantCode: http.StatusOK, wantBody: `"sink":"mail"`},
		{name: "show missing", method: http.MethodGet, path: "/dlq/mail/9", wantCode: http.StatusNotFound, wantBody: "no such dead letter"},
		{name: "show bad seq", method: http.MethodGet, path: "/dlq/mail/x", wantCode: http.StatusBadRequest},
		{name: "redrive without header", method: http.MethodPost, path: "/dlq/redrive", wantCode: http.StatusForbidden, wantBody: "X-Sluice-Admin"},
		{name: "purge without header", method: http.MethodPost, path: "/dlq/purge?all=1", wantCode: http.StatusForbidden},
		{name: "redrive by GET", method: http.MethodGet, path: "/dlq/redrive", wantCode: http.StatusMethodNotAllowed},
		{name: "purge without filter", method: http.MethodPost, path: "/dlq/purge", header: true, wantCode: http.StatusBadRequest, wantBody: "all=1"},
		{name: "redrive none", method: http.MethodPost, path: "/dlq/redrive?sink=nope", header: true, wantCode: http.StatusOK, wantBody: `{"count":0}`},
		{name: "purge bad until", method: http.MethodPost, path: "/dlq/purge?until=x", header: true, wantCode: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(context.Background(), tt.method, srv.URL+tt.path, nil)
			require.NoError(t, err)
			if tt.header {
				req.Header.Set(adminHeader, "1")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantCode, resp.StatusCode, string(body))
			assert.Contains(t, string(body), tt.wantBody)
		})
	}
}
