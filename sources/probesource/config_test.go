package probesource_test

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/invalid")

func TestFactory(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSourceFactory(t, probesource.NewFactory(), "kind")
}

func TestSourceSuite(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, 200)
	pipelinetest.TestSource(t, func(t *testing.T) pipeline.Source {
		return newSource(t, `{kind: http, url: "`+srv.URL+`", interval: 10ms}`)
	})
}

// TestInvalidConfigs validates each testdata/invalid file and compares
// every problem, as "field: message" lines, with its golden file
// (go test -run TestInvalidConfigs -update rewrites them). Every problem
// must be a pipeline.FieldError, so the config loader can point at its
// line and column.
func TestInvalidConfigs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			_, err = decode(t, string(b))
			require.Error(t, err)
			var lines []string
			for _, e := range pipeline.Unjoin(err) {
				var fe *pipeline.FieldError
				require.ErrorAs(t, e, &fe, "not a FieldError: %v", e)
				require.NotEmpty(t, fe.Field, "%v", e)
				lines = append(lines, e.Error())
			}
			slices.Sort(lines)
			got := strings.Join(lines, "\n") + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run with -update to create it")
			assert.Equal(t, string(want), got)
		})
	}
}

// TestValidConfigs checks that the testdata/valid files validate and
// build a source.
func TestValidConfigs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			cfg, err := decode(t, string(b))
			require.NoError(t, err)
			if cfg.TLS.CAFile != "" {
				return // the CA file does not exist here
			}
			_, err = probesource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("probe"), cfg)
			require.NoError(t, err)
		})
	}
}

// TestConfigDecoding checks the decoded values of a full config: the
// interval syntaxes, secrets, pointers and the command forms.
func TestConfigDecoding(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "valid", "everything.yaml"))
	require.NoError(t, err)
	cfg, err := decode(t, string(b))
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, cfg.Interval.Duration())
	assert.Equal(t, 2500*time.Millisecond, cfg.Timeout.Duration())
	assert.Equal(t, pipeline.Secret("Bearer abc"), cfg.Headers["Authorization"])
	assert.Equal(t, pipeline.SeverityCritical, *cfg.Severity)
	assert.True(t, *cfg.Results)
	assert.Equal(t, []string{"200-204", "3xx", "418"}, cfg.ExpectStatus)
	assert.Equal(t, 10*time.Second, cfg.Jitter.Duration())

	dcae, err := decode(t, "{kind: exec, command: '/opt/app/health.sh --quick', interval: 30, timeout: '05s', jitter: 0}")
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, dcae.Interval.Duration())
	assert.Equal(t, 5*time.Second, dcae.Timeout.Duration())
	assert.True(t, dcae.Jitter.IsSet(), "an explicit 0 is set")
	assert.Zero(t, dcae.Jitter.Duration())
	assert.False(t, dcae.Heartbeat.IsSet())
	assert.Equal(t, probesource.CommandLine("/opt/app/health.sh --quick"), dcae.Command)

	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "Bearer abc", "header values are secrets")
	assert.Contains(t, string(out), "interval: 1m30s")
}

// TestConfigTypo checks that an unknown key is an error.
func TestConfigTypo(t *testing.T) {
	t.Parallel()
	_, err := decode(t, "{kind: http, url: 'http://127.0.0.1/', intreval: 5s}")
	require.ErrorContains(t, err, "field intreval not found")
}

// TestProgrammaticConfig checks the Go API: NewInterval, Argv and the
// FieldErrors of a config built in code.
func TestProgrammaticConfig(t *testing.T) {
	t.Parallel()
	cfg := &probesource.Config{Kind: probesource.KindExec, Command: probesource.Argv(), Interval: probesource.NewInterval(-time.Second)}
	err := cfg.Validate()
	var fields []string
	for _, e := range pipeline.Unjoin(err) {
		var fe *pipeline.FieldError
		require.ErrorAs(t, e, &fe)
		fields = append(fields, fe.Field)
	}
	assert.ElementsMatch(t, []string{"interval", "command"}, fields)

	cfg = &probesource.Config{Kind: probesource.KindExec, Command: probesource.Argv("/bin/true"), Interval: probesource.NewInterval(time.Minute)}
	require.NoError(t, cfg.Validate())
}
