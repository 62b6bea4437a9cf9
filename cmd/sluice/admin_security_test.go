package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/internal/testenv"
	"github.com/sluice-dev/sluice/internal/unixsock"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// heldJournal opens a journal with three records in a new directory and
// holds it until the test ends, as a running engine does.
func heldJournal(t *testing.T) (string, journal.Store) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "j")
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	_, err = j.Append(context.Background(), pipeline.AppendBatch{Events: []pipeline.Event{
		{ID: "a", Source: "/t", Type: "t"}, {ID: "b", Source: "/t", Type: "t"}, {ID: "c", Source: "/t", Type: "t"},
	}})
	require.NoError(t, err)
	return dir, j
}

func testAdmin(t *testing.T, j journal.Store, dir string) *admin {
	t.Helper()
	id, err := identify(dir)
	require.NoError(t, err)
	return &admin{journal: j, ready: func() bool { return true }, metrics: http.NotFoundHandler(),
		log: pipeline.NopSettings("admin").Logger, identity: id}
}

// do sends a request and returns the status and body.
func do(t *testing.T, c *http.Client, method, url string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminTCPServesOnlyHealthByDefault: without admin.api: tcp, the TCP
// listener answers health, readiness and metrics, and nothing of the API
// (issue 13 item 1: as any local user, curl /journal/export returned the
// journal and POST /dlq/purge?all=1 purged it).
func TestAdminTCPServesOnlyHealthByDefault(t *testing.T) {
	t.Parallel()
	dir, j := heldJournal(t)
	a := testAdmin(t, j, dir)
	a.pprof = true
	srv := httptest.NewServer(a.tcpHandler(config.DefaultAdminConfig(), ""))
	t.Cleanup(srv.Close)
	admin := map[string]string{adminHeader: "1"}
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/readyz", http.StatusOK},
		{http.MethodGet, "/journal/records", http.StatusNotFound},
		{http.MethodGet, "/journal/export", http.StatusNotFound},
		{http.MethodGet, "/journal/stats", http.StatusNotFound},
		{http.MethodGet, "/dlq", http.StatusNotFound},
		{http.MethodPost, "/dlq/purge?all=1", http.StatusNotFound},
		{http.MethodPost, "/journal/replay", http.StatusNotFound},
		{http.MethodPost, "/journal/cursors/x/delete", http.StatusNotFound},
		{http.MethodGet, "/debug/pprof/", http.StatusNotFound},
	}
	for _, tt := range tests {
		code, body := do(t, srv.Client(), tt.method, srv.URL+tt.path, admin)
		assert.Equal(t, tt.want, code, "%s %s: %s", tt.method, tt.path, body)
		if tt.want == http.StatusNotFound {
			assert.Contains(t, body, "admin.api: tcp", tt.path)
		}
	}
}

// TestAdminTCPAPINeedsToken: with admin.api: tcp every API request must
// present the token; health stays open; a foreign Host or another site's
// page is refused before the token is even looked at (items 1 and 2).
func TestAdminTCPAPINeedsToken(t *testing.T) {
	t.Parallel()
	dir, j := heldJournal(t)
	a := testAdmin(t, j, dir)
	c := config.DefaultAdminConfig()
	c.API = config.AdminAPITCP
	srv := httptest.NewServer(a.tcpHandler(c, "s3cret-token"))
	t.Cleanup(srv.Close)
	good := "Bearer s3cret-token"
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		want   int
		body   string
	}{
		{"health without token", http.MethodGet, "/healthz", nil, http.StatusOK, "ok"},
		{"records without token", http.MethodGet, "/journal/records", nil, http.StatusUnauthorized, "missing bearer token"},
		{"export with a wrong token", http.MethodGet, "/journal/export", map[string]string{"Authorization": "Bearer guess"}, http.StatusUnauthorized, "invalid bearer token"},
		{"purge without token", http.MethodPost, "/dlq/purge?all=1", map[string]string{adminHeader: "1"}, http.StatusUnauthorized, "missing"},
		{"records with the token", http.MethodGet, "/journal/records?limit=1", map[string]string{"Authorization": good}, http.StatusOK, `"id":"a"`},
		{"rebinding with the token", http.MethodPost, "/dlq/purge?all=1", map[string]string{"Authorization": good, adminHeader: "1", "Host": "rebind.attacker.example"}, http.StatusForbidden, "DNS rebinding"},
		{"rebinding health", http.MethodGet, "/healthz", map[string]string{"Host": "rebind.attacker.example:9464"}, http.StatusForbidden, "allowed_hosts"},
		{"cross-site origin", http.MethodPost, "/journal/replay", map[string]string{"Authorization": good, adminHeader: "1", "Origin": "http://attacker.example"}, http.StatusForbidden, "Origin"},
		{"cross-site fetch", http.MethodGet, "/journal/export", map[string]string{"Authorization": good, "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, "Sec-Fetch-Site"},
		{"pprof off", http.MethodGet, "/debug/pprof/", map[string]string{"Authorization": good}, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		code, body := do(t, srv.Client(), tt.method, srv.URL+tt.path, tt.header)
		assert.Equal(t, tt.want, code, "%s: %s", tt.name, body)
		assert.Contains(t, body, tt.body, tt.name)
		assert.NotContains(t, body, "s3cret-token", tt.name)
	}
}

// TestAdminSocketChecksPeer: the socket serves the API to root and the
// engine's own user only (or admin.allow_uids), by the credentials the
// kernel reports (item 1).
func TestAdminSocketChecksPeer(t *testing.T) {
	t.Parallel()
	dir, j := heldJournal(t)
	a := testAdmin(t, j, dir)
	self := uint32(os.Geteuid())
	other := uint32(65533)
	if self == other {
		other = 65532
	}
	tests := []struct {
		name  string
		allow []uint32
		cred  *unixsock.Cred
		want  int
	}{
		{name: "engine's user", cred: &unixsock.Cred{UID: self}, want: http.StatusOK},
		{name: "root", cred: &unixsock.Cred{UID: 0}, want: http.StatusOK},
		{name: "other user", cred: &unixsock.Cred{UID: other}, want: http.StatusForbidden},
		{name: "allowed user", allow: []uint32{other}, cred: &unixsock.Cred{UID: other}, want: http.StatusOK},
		{name: "no credentials", want: http.StatusForbidden},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "http://sluice-admin/dlq/purge?all=1", nil)
		r.Header.Set(adminHeader, "1")
		if tt.cred != nil {
			r = r.WithContext(unixsock.ContextWithCred(r.Context(), *tt.cred))
		}
		w := httptest.NewRecorder()
		a.socketHandler(unixsock.Policy{UIDs: tt.allow}).ServeHTTP(w, r)
		assert.Equal(t, tt.want, w.Code, "%s: %s", tt.name, w.Body.String())
		switch {
		case tt.want == http.StatusForbidden && tt.cred != nil:
			assert.Contains(t, w.Body.String(), fmt.Sprintf("uid %d may not use the admin socket", other), tt.name)
		case tt.want == http.StatusForbidden:
			assert.Contains(t, w.Body.String(), "credentials are unknown", tt.name)
		}
	}
}

// TestAdminSocketFile: the socket is created 0600 in the journal
// directory (0666 with allow_uids, the peer check deciding), replaces a
// stale one, and is removed at shutdown.
func TestAdminSocketFile(t *testing.T) {
	t.Parallel()
	dir, j := heldJournal(t)
	path := serveAdminSocket(t, dir, testAdmin(t, j, dir))
	assert.Equal(t, filepath.Join(dir, config.AdminSocketName), path)
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSocket, fi.Mode().Type())
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())

	c := config.DefaultAdminConfig()
	c.Socket = filepath.Join(t.TempDir(), "shared.sock")
	c.AllowUIDs = []uint32{4242}
	ln, err := listenAdminSocket(c, dir)
	require.NoError(t, err)
	fi, err = os.Lstat(c.Socket)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o666), fi.Mode().Perm())
	require.NoError(t, ln.Close())
	assert.NoFileExists(t, c.Socket)

	c.Socket = filepath.Join(t.TempDir(), strings.Repeat("s", 110))
	_, err = listenAdminSocket(c, dir)
	require.ErrorIs(t, err, unixsock.ErrPathTooLong)
	assert.Contains(t, err.Error(), "admin.socket")

	// A directory others can write: they could swap the socket.
	open := t.TempDir()
	require.NoError(t, os.Chmod(open, 0o777))
	c.Socket = filepath.Join(open, "admin.sock")
	_, err = listenAdminSocket(c, dir)
	require.ErrorIs(t, err, safefile.ErrUnsafe)
	assert.NoFileExists(t, c.Socket)
}

// TestCLIRefusesForeignSocket: the CLI does not talk to a socket that
// another user than root or the journal's owner made.
func TestCLIRefusesForeignSocket(t *testing.T) {
	t.Parallel()
	dir, j := heldJournal(t)
	path := serveAdminSocket(t, dir, testAdmin(t, j, dir))
	require.NoError(t, checkSocketOwner(path, dir))
	testenv.RequireRoot(t, "gives the socket to another user")
	require.NoError(t, os.Lchown(path, 65534, 65534))
	err := checkSocketOwner(path, dir)
	require.ErrorIs(t, err, safefile.ErrUnsafe)
	assert.Contains(t, err.Error(), "owned by uid 65534")
	code, out, errOut := sluice(t, "journal", "tail", "--dir", dir)
	assert.Equal(t, exitJournalInUse, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "another user may have made it")
}

// TestCLIRefusesAnotherEnginesJournal: `--dir B --admin A` used to act on
// engine A's journal without a word; the CLI now checks which journal the
// engine it reaches holds (item 1).
func TestCLIRefusesAnotherEnginesJournal(t *testing.T) {
	t.Parallel()
	dirA, jA := heldJournal(t)
	dirB, _ := heldJournal(t)
	a := testAdmin(t, jA, dirA)
	sockA := serveAdminSocket(t, dirA, a)

	// B's engine is unreachable but A's answers on a socket named for B.
	cfg := filepath.Join(t.TempDir(), "b.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("journal: {dir: "+dirB+"}\nadmin: {socket: "+sockA+"}\n"+minimalPipeline), 0o600))
	code, out, errOut := sluice(t, "journal", "tail", "-c", cfg)
	assert.Equal(t, exitJournalInUse, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "holds the journal "+dirA+", not "+dirB)

	// Over TCP, with A's token (the operator copied it).
	c := config.DefaultAdminConfig()
	c.API = config.AdminAPITCP
	srv := httptest.NewServer(a.tcpHandler(c, "tok-A"))
	t.Cleanup(srv.Close)
	require.NoError(t, os.WriteFile(filepath.Join(dirB, config.AdminTokenName), []byte("tok-A\n"), 0o600))
	code, out, errOut = sluice(t, "journal", "dlq", "purge", "--all", "--yes", "--dir", dirB, "--admin", strings.TrimPrefix(srv.URL, "http://"))
	assert.Equal(t, exitJournalInUse, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "holds the journal "+dirA+", not "+dirB)

	// The right pairs work: A's journal through A's socket and A's TCP.
	code, out, errOut = sluice(t, "journal", "tail", "--dir", dirA, "-n", "1")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"id":"c"`)
	require.NoError(t, os.WriteFile(filepath.Join(dirA, config.AdminTokenName), []byte("tok-A\n"), 0o600))
	code, out, errOut = sluice(t, "journal", "stats", "--dir", dirA, "--admin", strings.TrimPrefix(srv.URL, "http://"))
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"last": 3`)
}

// minimalPipeline completes a config file for the CLI's tests.
const minimalPipeline = `sources:
  - {name: in, type: heartbeat, with: {interval: 1h}}
sinks:
  - {name: out, type: stdout}
routes:
  - {name: r, from: [in], to: [out]}
`

// TestAdminTokenFile: the token is generated once, 0600, and reused; a
// token file others may read, a link or another user's file is refused.
func TestAdminTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.token")
	tok, err := adminToken(path)
	require.NoError(t, err)
	assert.Len(t, tok, 43, "32 random bytes, base64url")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	again, err := adminToken(path)
	require.NoError(t, err)
	assert.Equal(t, tok, again, "generated once")

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = adminToken(path)
	require.ErrorIs(t, err, errTokenFile)
	assert.Contains(t, err.Error(), "chmod 600")

	link := filepath.Join(dir, "link.token")
	require.NoError(t, os.Symlink(path, link))
	_, err = adminToken(link)
	require.ErrorIs(t, err, errTokenFile)
	assert.Contains(t, err.Error(), "symbolic link")
}

// TestAdminTimeouts: a slow request body is cut off after the read
// timeout (a slow body to /journal/replay was still being accepted after
// 30s), an idle connection after the idle timeout, while a stream that
// its client reads outlives both the read and the write timeouts
// (item 10).
func TestAdminTimeouts(t *testing.T) {
	t.Parallel()
	dir, j := heldJournal(t)
	a := testAdmin(t, j, dir)
	c := config.DefaultAdminConfig()
	c.API = config.AdminAPITCP
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tm := adminTimeouts{ReadHeader: 300 * time.Millisecond, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: 500 * time.Millisecond, Shutdown: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveAdmin(ctx, ln, a.tcpHandler(c, "tok"), tm, a.log, nil) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	addr := ln.Addr().String()

	// A slow body.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, "POST /journal/replay HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok\r\n"+
		adminHeader+": 1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"sink\":")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	answer, _ := io.ReadAll(conn)
	assert.Less(t, time.Since(start), 5*time.Second, "the slow body was cut off")
	assert.NotContains(t, string(answer), "200 OK", "no replay was started")

	// An idle keep-alive connection.
	idle, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer idle.Close()
	_, err = io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.NoError(t, idle.SetReadDeadline(time.Now().Add(10*time.Second)))
	start = time.Now()
	_, err = br.ReadByte()
	require.ErrorIs(t, err, io.EOF, "the server closed the idle connection")
	assert.Less(t, time.Since(start), 5*time.Second)

	// A followed stream outlives the read and write timeouts.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/journal/records?follow=1", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer tok")
	stream, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer stream.Body.Close()
	sc := bufio.NewScanner(stream.Body)
	for range 3 {
		require.True(t, sc.Scan(), "the three records")
	}
	time.Sleep(4 * tm.Write)
	_, err = j.Append(context.Background(), pipeline.AppendBatch{Events: []pipeline.Event{{ID: "late", Source: "/t", Type: "t"}}})
	require.NoError(t, err)
	require.True(t, sc.Scan(), "the stream is still open: %v", sc.Err())
	assert.Contains(t, sc.Text(), `"id":"late"`)
}

// TestAdminRefusalsLoggedAndCounted: refused requests are logged with who
// asked (the peer's uid, the remote address), never the token, and
// counted by listener and reason.
func TestAdminRefusalsLoggedAndCounted(t *testing.T) {
	t.Parallel()
	dir, j := heldJournal(t)
	a := testAdmin(t, j, dir)
	logs := &lockedWriter{}
	a.log = slog.New(slog.NewTextHandler(logs, nil))
	reader := sdkmetric.NewManualReader()
	refusals, err := newAdminRefusals(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	require.NoError(t, err)
	a.refusals = refusals
	c := config.DefaultAdminConfig()
	c.API = config.AdminAPITCP
	srv := httptest.NewServer(a.tcpHandler(c, "right-token"))
	t.Cleanup(srv.Close)
	do(t, srv.Client(), http.MethodGet, srv.URL+"/journal/export", map[string]string{"Authorization": "Bearer wrong-token"})
	do(t, srv.Client(), http.MethodGet, srv.URL+"/healthz", map[string]string{"Host": "rebind.attacker.example"})
	r := httptest.NewRequest(http.MethodGet, "http://sluice-admin/journal/records", nil)
	r = r.WithContext(unixsock.ContextWithCred(r.Context(), unixsock.Cred{UID: 65533, PID: 77}))
	a.socketHandler(unixsock.Policy{}).ServeHTTP(httptest.NewRecorder(), r)

	text := logs.String()
	assert.Contains(t, text, "uid=65533")
	assert.Contains(t, text, "pid=77")
	assert.Contains(t, text, "reason=token")
	assert.Contains(t, text, "reason=host")
	assert.NotContains(t, text, "wrong-token")
	assert.NotContains(t, text, "right-token")

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != metricAdminRefused {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				l, _ := dp.Attributes.Value("listener")
				why, _ := dp.Attributes.Value("reason")
				got[l.AsString()+"/"+why.AsString()] = dp.Value
			}
		}
	}
	assert.Equal(t, map[string]int64{"tcp/token": 1, "tcp/host": 1, "socket/peer": 1}, got)
}

// lockedWriter collects the writes of the server's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
