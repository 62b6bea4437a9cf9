package vessink_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// mixedBatch is a batch whose domains change along the journal order.
func mixedBatch() []pipeline.Delivery {
	return []pipeline.Delivery{
		delivery(1, "sluice.heartbeat", "vm17", t0, pipeline.SeverityInfo, heartbeatData(1, "1m0s")),
		delivery(2, "sluice.vm.fault", "vm1", t0, pipeline.SeverityCritical, nil),
		delivery(3, "sluice.vm.fault", "vm2", t0, pipeline.SeverityError, nil),
		delivery(4, "sluice.lb.request", "lb", t0, pipeline.SeverityInfo, map[string]any{"n": 4}),
		delivery(5, "sluice.lb.request", "lb", t0, pipeline.SeverityInfo, map[string]any{"n": 5}),
		delivery(6, "sluice.lb.request", "lb", t0, pipeline.SeverityInfo, map[string]any{"n": 6}),
		delivery(7, "sluice.probe.state", "web", t0, pipeline.SeverityInfo, map[string]any{"to": "healthy"}),
		delivery(8, "sluice.lb.request", "lb", t0, pipeline.SeverityInfo, map[string]any{"n": 8}),
		delivery(9, "sluice.vm.fault.cleared", "vm1", t0.Add(time.Minute), pipeline.SeverityInfo, nil),
	}
}

// sequences returns the header sequences of the events of r.
func sequences(t *testing.T, r *captured) []uint64 {
	t.Helper()
	var out []uint64
	for _, e := range r.Events {
		out = append(out, headerOf(t, e).CommonEventHeader.Sequence)
	}
	return out
}

func TestBatchSplitByDomainAndSize(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	cfg := testConfig(c, pki)
	cfg.MaxBatchEvents = 2
	s := startSink(t, pipeline.NopSettings("ves"), cfg)
	require.NoError(t, s.Deliver(t.Context(), mixedBatch()))
	c.requireConforming(t)

	type req struct {
		path string
		seqs []uint64
	}
	var got []req
	for _, r := range c.Requests() {
		got = append(got, req{r.Path, sequences(t, r)})
		domains := map[string]bool{}
		for _, e := range r.Events {
			domains[domainOf(e)] = true
		}
		require.Len(t, domains, 1, "one domain per request: %s", r.Body)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	}
	single, batch := "/eventListener/v7", "/eventListener/v7/eventBatch"
	assert.Equal(t, []req{
		{single, []uint64{1}},
		{batch, []uint64{2, 3}},
		{batch, []uint64{4, 5}},
		{single, []uint64{6}},
		{single, []uint64{7}},
		{single, []uint64{8}},
		{single, []uint64{9}},
	}, got, "runs of one domain, in journal order, at most max_batch_events each")
}

func TestBatchSplitByBytes(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	cfg := testConfig(c, pki)
	cfg.MaxBatchBytes = 4096
	s := startSink(t, pipeline.NopSettings("ves"), cfg)
	var batch []pipeline.Delivery
	for i := range 20 {
		batch = append(batch, delivery(uint64(i+1), "sluice.test.event", "s", t0, pipeline.SeverityInfo,
			map[string]any{"pad": strings.Repeat("p", 500)}))
	}
	require.NoError(t, s.Deliver(t.Context(), batch))
	c.requireConforming(t)
	var seqs []uint64
	reqs := c.Requests()
	require.Greater(t, len(reqs), 4, "20 events of about 1.1KB need several 4KiB requests")
	for _, r := range reqs {
		assert.LessOrEqual(t, len(r.Body), 4096)
		seqs = append(seqs, sequences(t, r)...)
	}
	require.Len(t, seqs, 20)
	for i, seq := range seqs {
		assert.Equal(t, uint64(i+1), seq, "order kept")
	}
}

func TestStatusClassification(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	tests := []struct {
		name   string
		status int
		body   string
		// want is "" (delivered), "transient" or "permanent".
		want    string
		wantMsg string
	}{
		{name: "202", status: 202, body: "Successfully send event"},
		{name: "200 compatibility mode", status: 200, body: "Accepted"},
		{name: "204", status: 204},
		{name: "400 ServiceException", status: 400, want: "permanent",
			body:    vesException("ServiceException", "SVC0002", "Bad Parameter (JSON does not conform to schema)"),
			wantMsg: "status 400 Bad Request: SVC0002: Bad Parameter (JSON does not conform to schema)"},
		{name: "400 lowerCamel with variables", status: 400, want: "permanent",
			body:    `{"requestError":{"serviceException":{"messageId":"SVC2004","text":"Invalid input value for %1 field: %2","variables":["eventId","x y"]}}}`,
			wantMsg: "SVC2004: Invalid input value for eventId field: x y"},
		{name: "400 policy too large", status: 400, want: "permanent",
			body: vesException("PolicyException", "POL9003", "Message content size exceeds the allowable limit"), wantMsg: "POL9003: Message content size"},
		{name: "400 plain", status: 400, body: "Operation not permitted\n", want: "permanent", wantMsg: "status 400 Bad Request: Operation not permitted"},
		{name: "401", status: 401, body: vesException("PolicyException", "POL0001", "Not Authorized"), want: "permanent", wantMsg: "POL0001: Not Authorized"},
		{name: "403", status: 403, want: "permanent", wantMsg: "status 403 Forbidden"},
		{name: "404", status: 404, want: "permanent"},
		{name: "302", status: 302, want: "permanent", wantMsg: "status 302 Found"},
		{name: "429", status: 429, want: "transient"},
		{name: "500", status: 500, body: vesException("ServiceException", "SVC1000", "No server resources"), want: "transient", wantMsg: "SVC1000"},
		{name: "503", status: 503, want: "transient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCollector(t, pki, withAnswer(func(int, *captured) (int, string) { return tt.status, tt.body }))
			s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
			err := s.Deliver(t.Context(), mixedBatch()[:1])
			switch tt.want {
			case "":
				require.NoError(t, err)
				return
			case "transient":
				require.Error(t, err)
				assert.False(t, pipeline.IsPermanent(err), "%v", err)
			case "permanent":
				require.Error(t, err)
				assert.True(t, pipeline.IsPermanent(err), "%v", err)
			}
			var se *vessink.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.status, se.StatusCode)
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestNetworkErrorsAreTransient(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki)
		cfg := testConfig(c, pki)
		c.srv.Close()
		s := startSink(t, pipeline.NopSettings("ves"), cfg)
		err := s.Deliver(t.Context(), mixedBatch()[:1])
		require.Error(t, err)
		assert.False(t, pipeline.IsPermanent(err))
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		c := newCollector(t, pki, withAnswer(func(_ int, _ *captured) (int, string) {
			<-release
			return 202, ""
		}))
		t.Cleanup(func() { close(release) })
		cfg := testConfig(c, pki)
		cfg.Timeout = 100 * time.Millisecond
		s := startSink(t, pipeline.NopSettings("ves"), cfg)
		err := s.Deliver(t.Context(), mixedBatch()[:1])
		require.ErrorIs(t, err, vessink.ErrTimeout)
		assert.False(t, pipeline.IsPermanent(err))
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		c := newCollector(t, pki, withAnswer(func(_ int, _ *captured) (int, string) {
			<-release
			return 202, ""
		}))
		t.Cleanup(func() { close(release) })
		s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		err := s.Deliver(ctx, mixedBatch()[:1])
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("unknown authority", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki)
		cfg := testConfig(c, pki)
		cfg.TLS.CAFile = ""
		logs := &logRecorder{}
		s := startSink(t, pipeline.Settings{ID: "ves", Logger: slog.New(logs)}, cfg)
		err := s.Deliver(t.Context(), mixedBatch()[:1])
		require.Error(t, err)
		assert.False(t, pipeline.IsPermanent(err), "an operator can fix tls.ca_file; nothing is dropped")
		assert.Contains(t, err.Error(), "verify server certificate")
		assert.Empty(t, c.Requests(), "verification is on by default")
		assert.True(t, logs.has(slog.LevelWarn, "cannot verify"))
	})
	t.Run("insecure skip verify", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki)
		cfg := testConfig(c, pki)
		cfg.TLS.CAFile, cfg.TLS.InsecureSkipVerify = "", true
		logs := &logRecorder{}
		s := startSink(t, pipeline.Settings{ID: "ves", Logger: slog.New(logs)}, cfg)
		require.NoError(t, s.Deliver(t.Context(), mixedBatch()[:1]))
		assert.True(t, logs.has(slog.LevelWarn, "VERIFICATION IS DISABLED"))
	})
}

// TestBisection: the collector refuses any request holding a bad event
// (as a schema violation would), so the sink bisects until the bad events
// stand alone; every good event is delivered exactly once.
func TestBisection(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	bad := map[uint64]bool{5: true, 6: true, 13: true}
	c := newCollector(t, pki, withAnswer(func(_ int, r *captured) (int, string) {
		for _, e := range r.Events {
			if bad[headerOf(t, e).CommonEventHeader.Sequence] {
				return 400, vesException("ServiceException", "SVC0002", "Bad Parameter (JSON does not conform to schema)")
			}
		}
		return 0, ""
	}))
	s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
	var batch []pipeline.Delivery
	for i := range 16 {
		batch = append(batch, delivery(uint64(i+1), "sluice.test.event", "s", t0, pipeline.SeverityInfo, nil))
	}
	err := s.Deliver(t.Context(), batch)
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	var idx []int
	for _, f := range be.Failed {
		idx = append(idx, f.Index)
		require.True(t, pipeline.IsPermanent(f.Err))
		assert.Contains(t, f.Err.Error(), "SVC0002: Bad Parameter (JSON does not conform to schema)", "the dead letter's reason")
	}
	assert.Equal(t, []int{4, 5, 12}, idx)
	var accepted []uint64
	for _, e := range c.Accepted() {
		accepted = append(accepted, headerOf(t, e).CommonEventHeader.Sequence)
	}
	assert.Equal(t, []uint64{1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 14, 15, 16}, accepted, "good events once each, in order")
	assert.LessOrEqual(t, len(c.Requests()), 16, "k bad among n cost O(k log n) requests")
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	t.Run("password", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki, withBasic("sluice", "s3cret: with colon"))
		cfg := testConfig(c, pki)
		cfg.Username, cfg.Password = "sluice", "s3cret: with colon"
		s := startSink(t, pipeline.NopSettings("ves"), cfg)
		require.NoError(t, s.Deliver(t.Context(), mixedBatch()))
		assert.Equal(t, basicHeader("sluice", "s3cret: with colon"), c.Requests()[0].Header.Get("Authorization"))
	})
	t.Run("password file", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki, withBasic("sluice", "from-file"))
		cfg := testConfig(c, pki)
		cfg.Username, cfg.PasswordFile = "sluice", filepath.Join(t.TempDir(), "pw")
		require.NoError(t, os.WriteFile(cfg.PasswordFile, []byte("from-file\n"), 0o600))
		s := startSink(t, pipeline.NopSettings("ves"), cfg)
		require.NoError(t, s.Deliver(t.Context(), mixedBatch()[:1]))
	})
	t.Run("missing password file", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki)
		cfg := testConfig(c, pki)
		cfg.Username, cfg.PasswordFile = "sluice", filepath.Join(t.TempDir(), "nope")
		s, err := vessink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("ves"), cfg)
		require.NoError(t, err)
		err = s.Start(t.Context())
		require.ErrorContains(t, err, "password_file")
		require.NoError(t, s.Close(t.Context()))
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki, withBasic("sluice", "right"))
		cfg := testConfig(c, pki)
		cfg.Username, cfg.Password = "sluice", "wrong-password"
		logs := &logRecorder{}
		s := startSink(t, pipeline.Settings{ID: "ves", Logger: slog.New(logs)}, cfg)
		batch := mixedBatch()
		err := s.Deliver(t.Context(), batch)
		var be *pipeline.BatchError
		require.ErrorAs(t, err, &be)
		require.Len(t, be.Failed, len(batch), "every event is dead-lettered")
		for _, f := range be.Failed {
			require.True(t, pipeline.IsPermanent(f.Err))
			require.ErrorContains(t, f.Err, "status 401 Unauthorized: POL0001: Not Authorized")
		}
		assert.Len(t, c.Requests(), 1, "after a 401 the rest of the batch is not sent")
		assert.True(t, logs.has(slog.LevelError, "REFUSED THE CREDENTIALS"))
		assert.False(t, logs.contains("wrong-password"), "the password is never logged")
		assert.NotContains(t, err.Error(), "wrong-password")
	})
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	requireCert := withTLSConfig(&tls.Config{
		Certificates: []tls.Certificate{pki.server}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool,
	})
	t.Run("with client certificate", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki, requireCert)
		cfg := testConfig(c, pki)
		cfg.TLS.CertFile, cfg.TLS.KeyFile = pki.clientCert, pki.clientKey
		s := startSink(t, pipeline.NopSettings("ves"), cfg)
		require.NoError(t, s.Deliver(t.Context(), mixedBatch()))
		c.requireConforming(t)
	})
	t.Run("without client certificate", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki, requireCert)
		s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
		err := s.Deliver(t.Context(), mixedBatch()[:1])
		require.Error(t, err)
		assert.False(t, pipeline.IsPermanent(err), "a handshake failure is a network error: retried")
		assert.Empty(t, c.Requests())
	})
	t.Run("server name", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, pki)
		cfg := testConfig(c, pki)
		cfg.TLS.ServerName = "localhost" // a name of the certificate
		s := startSink(t, pipeline.NopSettings("ves"), cfg)
		require.NoError(t, s.Deliver(t.Context(), mixedBatch()[:1]))
		cfg.TLS.ServerName = "collector.invalid"
		s = startSink(t, pipeline.NopSettings("ves"), cfg)
		require.ErrorContains(t, s.Deliver(t.Context(), mixedBatch()[:1]), "verify server certificate")
	})
}

func TestServerRootURL(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	cfg := testConfig(c, pki)
	cfg.URL = c.URL() + "/routing/path/"
	cfg.Version = 5
	s := startSink(t, pipeline.NopSettings("ves"), cfg)
	require.NoError(t, s.Deliver(t.Context(), mixedBatch()[1:3]))
	require.Len(t, c.Requests(), 1)
	assert.Equal(t, "/routing/path/eventListener/v5/eventBatch", c.Requests()[0].Path)
	c.requireConforming(t)
}

func TestDeliverLifecycle(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	s, err := vessink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("ves"), testConfig(c, pki))
	require.NoError(t, err)
	require.ErrorIs(t, s.Deliver(t.Context(), mixedBatch()), vessink.ErrNotStarted)
	require.NoError(t, s.Start(t.Context()))
	require.Error(t, s.Start(t.Context()), "start twice")
	require.NoError(t, s.Close(t.Context()))
	require.ErrorIs(t, s.Deliver(t.Context(), mixedBatch()), vessink.ErrNotStarted)
	require.NoError(t, s.Close(t.Context()))
}

// logRecorder is a slog.Handler that keeps every record as text.
// WithAttrs and WithGroup share the records of their parent.
type logRecorder struct {
	mu    sync.Mutex
	lines []logLine
}

type logLine struct {
	level slog.Level
	text  string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	if err := slog.NewTextHandler(&b, nil).Handle(context.Background(), r); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, logLine{r.Level, b.String()})
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// has reports whether a record at level contains text.
func (l *logRecorder) has(level slog.Level, text string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range l.lines {
		if ln.level == level && strings.Contains(ln.text, text) {
			return true
		}
	}
	return false
}

// contains reports whether any record contains text.
func (l *logRecorder) contains(text string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range l.lines {
		if strings.Contains(ln.text, text) {
			return true
		}
	}
	return false
}
