package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

type noConfig struct{}

func (*noConfig) Validate() error { return nil }

// auditAdmin serves the admin endpoints over a journal of 10 events from
// source "in", routed to a recording sink "out".
func auditAdmin(t *testing.T, signer ed25519.PrivateKey) (*httptest.Server, *pipelinetest.RecordingSink) {
	t.Helper()
	j, err := journal.Open(t.TempDir(), journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	evs := make([]pipeline.Event, 10)
	for i := range evs {
		evs[i] = pipeline.Event{ID: string(rune('a' + i)), Source: "/t", Type: "t", Origin: "in"}
	}
	_, err = j.Append(context.Background(), pipeline.AppendBatch{Events: evs})
	require.NoError(t, err)
	rec := pipelinetest.NewRecordingSink()
	snk, err := pipeline.NewRegistry(pipeline.NewSinkFactory("recording", func() *noConfig { return &noConfig{} },
		func(context.Context, pipeline.Settings, *noConfig) (pipeline.Sink, error) { return rec, nil }))
	require.NoError(t, err)
	src, err := pipeline.NewRegistry[pipeline.SourceFactory]()
	require.NoError(t, err)
	spec := pipeline.Spec{
		Sinks:  []pipeline.SinkSpec{{Name: "out", Type: "recording", Config: &noConfig{}}},
		Routes: []pipeline.RouteSpec{{Name: "all", From: []string{"in"}, To: []string{"out"}}},
	}
	a := &admin{journal: j, ready: func() bool { return true }, metrics: http.NotFoundHandler(), log: pipeline.NopSettings("admin").Logger,
		audit: auditDeps{spec: spec, regs: pipeline.Registries{Sources: src, Sinks: snk}, settings: pipeline.NopSettings("t"), signer: signer}}
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	return srv, rec
}

func TestAdminReplay(t *testing.T) {
	t.Parallel()
	srv, rec := auditAdmin(t, nil)
	post := func(body string, header bool) (int, string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/journal/replay", strings.NewReader(body))
		require.NoError(t, err)
		if header {
			req.Header.Set(adminHeader, "1")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, _ := post(`{"sink":"out"}`, false)
	assert.Equal(t, http.StatusForbidden, code, "POSTs need the admin header")
	code, body := post(`{"sink":"out","bogus":1}`, true)
	assert.Equal(t, http.StatusBadRequest, code, body)
	code, body = post(`{"sink":"nope"}`, true)
	assert.Equal(t, http.StatusBadRequest, code, body)
	assert.Contains(t, body, "unknown sink")
	code, body = post(`{"sink":"out","match":"event.id =="}`, true)
	assert.Equal(t, http.StatusBadRequest, code, body)

	code, body = post(`{"sink":"out","from":"3","to":"7","dry_run":true}`, true)
	require.Equal(t, http.StatusOK, code, body)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	var last replayLine
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last))
	require.NotNil(t, last.Report)
	assert.Equal(t, uint64(5), last.Report.Selected)
	assert.Empty(t, rec.Deliveries())

	r := &remoteJournal{base: srv.URL, client: http.DefaultClient}
	var progress []replayProgressView
	rep, err := r.replay(context.Background(), replayRequest{Sink: "out", Match: `event.id != "b"`}, func(p replayProgressView) {
		progress = append(progress, p)
	})
	require.NoError(t, err)
	assert.Equal(t, uint64(9), rep.Delivered)
	assert.Len(t, rec.Deliveries(), 9)
	require.NotEmpty(t, progress)
	assert.Equal(t, uint64(11), progress[len(progress)-1].Next)
	_, err = r.replay(context.Background(), replayRequest{Sink: "nope"}, func(replayProgressView) {})
	assert.Equal(t, exitUsage, exitCode(err))
}

func TestAdminExport(t *testing.T) {
	t.Parallel()
	pub, engineKey, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	clientPub, clientKey, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	srv, _ := auditAdmin(t, engineKey)
	r := &remoteJournal{base: srv.URL, client: http.DefaultClient}

	var buf bytes.Buffer
	require.NoError(t, r.export(context.Background(), &buf, "2", "9", nil))
	rep, err := journal.VerifyExport(context.Background(), bytes.NewReader(buf.Bytes()), journal.VerifyExportOptions{PublicKey: pub})
	require.NoError(t, err, "signed by the engine's key")
	assert.Equal(t, uint64(8), rep.Manifest.Count)

	buf.Reset()
	require.NoError(t, r.export(context.Background(), &buf, "", "", clientKey))
	rep, err = journal.VerifyExport(context.Background(), bytes.NewReader(buf.Bytes()), journal.VerifyExportOptions{PublicKey: clientPub})
	require.NoError(t, err, "re-signed by the client's key")
	assert.Equal(t, uint64(10), rep.Manifest.Count)

	buf.Reset()
	require.NoError(t, r.export(context.Background(), &buf, "2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z", nil))
	rep, err = journal.VerifyExport(context.Background(), bytes.NewReader(buf.Bytes()), journal.VerifyExportOptions{})
	require.NoError(t, err)
	assert.Zero(t, rep.Manifest.Count, "a time range before every record is empty")

	err = r.export(context.Background(), &buf, "x", "", nil)
	require.ErrorContains(t, err, "400")
}

func TestParseBound(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want rangeBound
		err  bool
	}{
		{"", rangeBound{}, false},
		{"42", rangeBound{seq: 42}, false},
		{"2026-05-01T10:00:00Z", rangeBound{t: now.Add(-2 * time.Hour), time: true}, false},
		{"2026-05-01T11:30:00.5+00:00", rangeBound{t: now.Add(-30*time.Minute + 500*time.Millisecond), time: true}, false},
		{"1h", rangeBound{t: now.Add(-time.Hour), time: true}, false},
		{"-5", rangeBound{}, true},
		{"yesterday", rangeBound{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseBound("from", tt.in, now)
			if tt.err {
				require.Error(t, err)
				assert.Equal(t, exitUsage, exitCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want.seq, got.seq)
			assert.Equal(t, tt.want.time, got.time)
			assert.True(t, tt.want.t.Equal(got.t), "%s != %s", tt.want.t, got.t)
		})
	}
}

func TestProgressPlainLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newProgress(&buf, "replay", "records", 1000)
	require.Nil(t, p.bar, "no bar when the output is not a terminal")
	p.start = time.Now().Add(-10 * time.Second)
	p.last = p.start
	p.set(250, "200 delivered")
	p.finish()
	line := buf.String()
	assert.Contains(t, line, "250/1000 records (25.0%)")
	assert.Contains(t, line, "/s")
	assert.Contains(t, line, "left")
	assert.Contains(t, line, "200 delivered")
}

func TestRepairAndKeygenCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := sluice(t, "journal", "keygen", "-o", dir+"/k.pem")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, "key id ")
	code, _, _ = sluice(t, "journal", "keygen", "-o", dir+"/k.pem")
	assert.Equal(t, exitFailure, code, "keygen never overwrites a key")

	jdir := dir + "/j"
	j, err := journal.Open(jdir, journal.Options{})
	require.NoError(t, err)
	_, err = j.Append(context.Background(), pipeline.AppendBatch{Events: []pipeline.Event{{ID: "a", Source: "/t", Type: "t"}}})
	require.NoError(t, err)
	code, _, errOut = sluice(t, "journal", "repair", "--dir", jdir)
	assert.Equal(t, exitJournalInUse, code, errOut)
	assert.Contains(t, errOut, "stop the engine")
	require.NoError(t, j.Close(context.Background()))
	code, out, errOut = sluice(t, "journal", "repair", "--dir", jdir)
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"status": "intact"`)
}
