package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
)

var update = flag.Bool("update", false, "rewrite the .golden files in testdata")

// parseFixture parses a testdata file with the test registries and env.
func parseFixture(t *testing.T, path string) (*config.File, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return config.Parse(path, data, testRegistries(), lookupTestEnv)
}

// checkGolden compares got with path's content, or rewrites it with
// -update. An empty golden file is removed.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if got == "" {
			_ = os.Remove(path)
			return
		}
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		want, err = nil, nil
	}
	require.NoError(t, err)
	assert.Equal(t, string(want), got, "golden file %s (run go test -update to rewrite)", path)
}

func fixtures(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	return paths
}

func golden(path string) string { return strings.TrimSuffix(path, ".yaml") + ".golden" }

// TestParseValid parses every valid fixture; warnings are compared with
// the fixture's golden file (absent when there are none).
func TestParseValid(t *testing.T) {
	t.Parallel()
	for _, path := range fixtures(t, "valid") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			f, err := parseFixture(t, path)
			require.NoError(t, err)
			var lines []string
			for _, w := range f.Warnings {
				lines = append(lines, w.String()+"\n")
			}
			checkGolden(t, golden(path), strings.Join(lines, ""))
		})
	}
}

var errorLine = regexp.MustCompile(`^testdata/invalid/[a-z_]+\.yaml:\d+:\d+: \S`)

// TestParseInvalid checks every invalid fixture's errors against its
// golden file, and that no secret from the environment leaks into them.
func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for _, path := range fixtures(t, "invalid") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			f, err := parseFixture(t, path)
			require.Error(t, err)
			assert.Nil(t, f)
			var errs config.Errors
			require.ErrorAs(t, err, &errs)
			require.NotEmpty(t, errs)
			for _, e := range errs {
				assert.Regexp(t, errorLine, e.Error())
				assert.NotContains(t, e.Error(), testEnv["SECRET_PASS"])
				assert.NotContains(t, e.Error(), "tok-from-file")
			}
			checkGolden(t, golden(path), err.Error()+"\n")
		})
	}
}

func TestParseFull(t *testing.T) {
	t.Parallel()
	f, err := parseFixture(t, "testdata/valid/full.yaml")
	require.NoError(t, err)

	assert.Equal(t, config.JournalConfig{
		Backend:             "bbolt",
		Dir:                 "./sluice-data",
		SegmentMaxBytes:     64 << 20,
		SegmentMaxAge:       24 * time.Hour,
		Retention:           config.RetentionConfig{MaxAge: 168 * time.Hour, MaxBytes: 2 << 30},
		FullPolicy:          config.FullPolicyDropOldest,
		CursorFlushInterval: time.Second,
		MaxOpenSegments:     64,
		CheckpointInterval:  5 * time.Minute,
		OrphanCursorTTL:     24 * time.Hour,
		NATS:                fleet.DefaultAgentConfig(),
	}, f.Journal)
	assert.Equal(t, 45*time.Second, f.ShutdownTimeout)
	assert.Equal(t, 45*time.Second, f.Pipeline.ShutdownTimeout)
	assert.Equal(t, config.LogFormatJSON, f.Log.Format)
	assert.Empty(t, f.Warnings)

	require.Len(t, f.Pipeline.Sources, 1)
	src := f.Pipeline.Sources[0]
	assert.Equal(t, "ingest", src.Name)
	assert.Equal(t, "gen", src.Type)
	gen, ok := src.Config.(*genConfig)
	require.True(t, ok)
	assert.Equal(t, "hello ${literal} world", gen.Message)
	assert.Equal(t, 90*time.Minute, gen.Interval)
	assert.Equal(t, 16, gen.Count)
	assert.Equal(t, uint16(8088), gen.Port)
	assert.Equal(t, map[string]string{"env": "prod", "team": "core"}, gen.Labels, "a map in the file replaces the default map")
	assert.Equal(t, []genField{{Name: "a", Value: "1", Type: "string"}, {Name: "b", Type: "int"}}, gen.Fields)
	assert.Equal(t, "tok-from-file", gen.Token.Reveal())
	assert.Equal(t, pipeline.SeverityWarning, gen.Severity)
	assert.Equal(t, &tlsConfig{CAFile: "/etc/ca.pem"}, gen.TLS)
	assert.Equal(t, mode{Name: "fast", Level: 2}, gen.Mode)
	assert.Equal(t, map[string]any{"a": []any{1, "two", 3.5, true, nil}}, gen.Extra)

	require.Len(t, f.Pipeline.Sinks, 2)
	archive := f.Pipeline.Sinks[0]
	mem, ok := archive.Config.(*memoryConfig)
	require.True(t, ok)
	assert.Equal(t, "/var/lib/sluice/out.jsonl", mem.Path)
	assert.Equal(t, pipeline.ByteSize(2<<20), mem.Capacity)
	assert.Equal(t, testEnv["SECRET_PASS"], mem.Endpoint.Password.Reveal())
	assert.Equal(t, 5*time.Second, mem.ReadTimeout, "defaults survive")
	assert.Equal(t, 2*time.Second, mem.WriteTimeout)
	assert.Equal(t, pipeline.RetryConfig{Initial: time.Second, Max: time.Minute, Multiplier: 3, Jitter: 0.2}, archive.Retry)
	assert.Equal(t, pipeline.BatchConfig{MaxEvents: 100, MaxBytes: 512 << 10}, archive.Batch)
	assert.Equal(t, pipeline.DefaultRetryConfig(), f.Pipeline.Sinks[1].Retry)
	assert.Equal(t, pipeline.DefaultBatchConfig(), f.Pipeline.Sinks[1].Batch)

	routes := f.Pipeline.Routes
	require.Len(t, routes, 1)
	assert.NotEmpty(t, routes[0].Fingerprint)
	routes[0].Fingerprint = ""
	assert.Equal(t, []pipeline.RouteSpec{{Name: "all", From: []string{"ingest"}, To: []string{"archive", "out"}}}, routes)
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	f, err := parseFixture(t, "testdata/valid/minimal.yaml")
	require.NoError(t, err)
	want := config.DefaultJournalConfig()
	want.Dir = "/var/lib/sluice"
	assert.Equal(t, want, f.Journal)
	assert.Equal(t, config.DefaultAdminConfig(), f.Admin)
	assert.True(t, f.Admin.Enabled())
	assert.Equal(t, config.DefaultLogConfig(), f.Log)
	assert.Equal(t, config.DefaultShutdownTimeout, f.ShutdownTimeout)
	gen, ok := f.Pipeline.Sources[0].Config.(*genConfig)
	require.True(t, ok)
	assert.Equal(t, time.Second, gen.Interval)
	assert.Equal(t, map[string]string{"default": "yes"}, gen.Labels)
}

func TestParseAdminOff(t *testing.T) {
	t.Parallel()
	f, err := parseFixture(t, "testdata/valid/admin_off.yaml")
	require.NoError(t, err)
	assert.False(t, f.Admin.Enabled())
	assert.Equal(t, config.DefaultLogConfig(), f.Log, "a null section keeps its defaults")
	assert.Equal(t, pipeline.DefaultRetryConfig(), f.Pipeline.Sinks[0].Retry)
	mem, ok := f.Pipeline.Sinks[0].Config.(*memoryConfig)
	require.True(t, ok)
	assert.Equal(t, []string{}, mem.Headers)
}

func TestParseAdminTCP(t *testing.T) {
	t.Parallel()
	f, err := parseFixture(t, "testdata/valid/admin_tcp.yaml")
	require.NoError(t, err)
	assert.True(t, f.Admin.APIOnTCP())
	assert.True(t, f.Admin.PProf)
	assert.Equal(t, []uint32{1000}, f.Admin.AllowUIDs)
	assert.Equal(t, []string{"sluice.example.com", "*.vm.example.com"}, f.Admin.AllowedHosts)
	assert.Equal(t, "/etc/sluice/admin.token", f.Admin.TokenPath("/data"))
	assert.Equal(t, "/data/admin.sock", f.Admin.SocketPath("/data"))

	d, err := parseFixture(t, "testdata/valid/minimal.yaml")
	require.NoError(t, err)
	assert.False(t, d.Admin.APIOnTCP(), "the admin API is on the socket only by default")
	assert.False(t, d.Admin.PProf, "pprof is off by default")
	assert.Equal(t, "/var/lib/sluice/admin.token", d.Admin.TokenPath(d.Journal.Dir))
}

func TestErrorFields(t *testing.T) {
	t.Parallel()
	_, err := parseFixture(t, "testdata/invalid/unknown_type.yaml")
	var errs config.Errors
	require.ErrorAs(t, err, &errs)
	e := errs[0]
	assert.Equal(t, config.Position{File: "testdata/invalid/unknown_type.yaml", Line: 3, Column: 22}, e.Position)
	assert.Equal(t, "sources[0].type", e.Path)
	assert.Equal(t, `unknown source type "htp" (did you mean "http"?); known: gen, http`, e.Message)
	require.ErrorIs(t, err, pipeline.ErrUnknownType)
	require.ErrorIs(t, err, pipeline.ErrInvalidConfig)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	_, err := config.Load("testdata/does-not-exist.yaml", testRegistries())
	require.ErrorIs(t, err, os.ErrNotExist)

	f, err := config.Load("testdata/valid/minimal.yaml", testRegistries())
	require.NoError(t, err)
	assert.Equal(t, "testdata/valid/minimal.yaml", f.Name)
}

func TestParseNilEnvAndRegistries(t *testing.T) {
	t.Parallel()
	data := []byte("journal:\n  dir: ${HOME}\nsources: [{name: a, type: gen}]\n")
	_, err := config.Parse("x.yaml", data, pipeline.Registries{}, nil)
	require.Error(t, err)
	assert.Equal(t, strings.Join([]string{
		`x.yaml:1:1: sinks: at least one sink is required`,
		`x.yaml:1:1: routes: at least one route is required`,
		`x.yaml:2:8: journal.dir: ${HOME}: environment variable HOME is not set (write ${HOME:-default} to give a default)`,
		`x.yaml:3:27: sources[0].type: unknown source type "gen"; none are registered`,
	}, "\n"), err.Error())
}

// Route on_error, sink start_at and journal.orphan_cursor_ttl reach the
// pipeline spec.
func TestParseRouteAndSinkPolicies(t *testing.T) {
	t.Parallel()
	f, err := parseFixture(t, "testdata/valid/policies.yaml")
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, f.Pipeline.OrphanCursorTTL)
	require.Len(t, f.Pipeline.Sinks, 3)
	assert.Equal(t, pipeline.StartAt{Newest: true}, f.Pipeline.Sinks[0].StartAt)
	assert.Equal(t, "2026-01-02T03:04:05Z", f.Pipeline.Sinks[1].StartAt.String())
	assert.Equal(t, pipeline.StartAt{}, f.Pipeline.Sinks[2].StartAt, "oldest by default")
	require.Len(t, f.Pipeline.Routes, 2)
	assert.Equal(t, pipeline.OnErrorDeadLetter, f.Pipeline.Routes[0].OnError)
	assert.Empty(t, f.Pipeline.Routes[1].OnError, "no_match by default")
}

// journal.backend is bbolt by default, or nats; anything else is an
// error at its position, and so is nats without journal.nats.conn.url.
func TestJournalBackend(t *testing.T) {
	t.Parallel()
	_, err := config.Parse("f.yaml", []byte("journal: {dir: /j, backend: mongo}\n"), testRegistries(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `f.yaml:1:29: journal.backend: must be one of bbolt, nats, got "mongo"`)
	_, err = config.Parse("f.yaml", []byte("journal: {dir: /j, backend: nats, nats: {conn: {connect_timeout: 1s}}}\n"), testRegistries(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `journal.nats.conn.url: must not be empty`)
}
