package configtest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/cmd/sluice/internal/builtin"
	"github.com/sluice-dev/sluice/cmd/sluice/internal/configtest"
	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

func registries(t *testing.T) pipeline.Registries {
	t.Helper()
	regs, err := builtin.Registries()
	require.NoError(t, err)
	return regs
}

// runFile runs path and returns the result, the report and the error.
func runFile(t *testing.T, path string, update bool) (configtest.Result, string, error) {
	t.Helper()
	var out bytes.Buffer
	res, err := configtest.Run(context.Background(), path, configtest.Options{Registries: registries(t), Out: &out, Update: update})
	return res, out.String(), err
}

// scratch copies testdata into a temporary directory and writes the test
// file text there as name.
func scratch(t *testing.T, name, text string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"pipeline.yaml", "beats.jsonl", "pass.golden"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func TestPassingFile(t *testing.T) {
	t.Parallel()
	res, out, err := runFile(t, filepath.Join("testdata", "pass.test.yaml"), false)
	require.NoError(t, err)
	assert.Equal(t, configtest.Result{Passed: 2}, res, out)
	assert.Contains(t, out, "ok   testdata/pass.test.yaml: a failing transform is a dead letter")
}

const oneEvent = `config: pipeline.yaml
tests:
  - name: case
    events:
      - from: web
        event: {id: a1, source: /vm, type: vm.alarm, data: {code: 500, tags: [x, y]}}
`

func TestFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		expect string
		want   []string
	}{
		{"too few", "      lines: []\n", []string{"sink lines: want 0 deliveries, got 1: delivery 1 (route everything, sequence 1, at 0s) is not expected", "as the stdout sink encodes it:", `{"data":{"code":500,"tags":["x","y"]}`}},
		{"too many", "      alarms: [{}, {}]\n", []string{"sink alarms: want 2 deliveries, got 1: delivery 2 is missing"}},
		{"route", "      lines: [{route: alarms}]\n", []string{"delivery 1 of 1 (route everything, sequence 1, at 0s): route: want alarms, got everything"}},
		{"at", "      lines: [{at: 1s}]\n", []string{"at: want 1s, got 0s"}},
		{"subset value", "      alarms: [{contains: {data: {code: 501}}}]\n", []string{"data.code: want 501, got 500", "as the http sink encodes it:", `"idempotencykey":`}},
		{"subset missing key", "      alarms: [{contains: {subject: x}}]\n", []string{`subject: missing (want "x")`}},
		{"subset list length", "      lines: [{contains: {data: {tags: [x]}}}]\n", []string{`data.tags: want ["x"], got ["x","y"]`}},
		{"exact extra key", "      lines: [{event: {specversion: \"1.0\", id: a1, source: /vm, type: vm.alarm, time: 2026-01-01T00:00:00Z, data: {code: 500, tags: [x, y]}}}]\n", []string{`sequence: not expected, got "1"`}},
		{"expr false", "      lines: [{expr: 'event.data.code == 200'}]\n", []string{"expr event.data.code == 200: false"}},
		{"expr error", "      lines: [{expr: 'event.data.nope == 1'}]\n", []string{"expr event.data.nope == 1: match"}},
		{"dead letter missing", "    dead_letters:\n      lines: [{reason: transform failed}]\n", []string{"sink lines: want 1 dead letter, got 0: dead letter 1 is missing"}},
		{"golden missing", "    golden: nope.golden\n", []string{"golden file nope.golden does not exist; write it with sluice test --update"}},
		{"golden differs", "    golden: pass.golden\n", []string{"golden file pass.golden differs", "-  dead letter 1.", "+     {\"data\":{\"code\":500"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect := tt.expect
			if !strings.HasPrefix(expect, "    ") || strings.HasPrefix(expect, "      ") {
				expect = "    expect:\n" + expect
			}
			path := scratch(t, "x.test.yaml", oneEvent+expect)
			res, out, err := runFile(t, path, false)
			require.NoError(t, err)
			assert.Equal(t, configtest.Result{Failed: 1}, res, out)
			assert.Contains(t, out, "FAIL "+path+": case")
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
		})
	}
}

func TestGoldenUpdate(t *testing.T) {
	t.Parallel()
	path := scratch(t, "x.test.yaml", oneEvent+"    golden: out/new.golden\n")
	require.NoError(t, os.Mkdir(filepath.Join(filepath.Dir(path), "out"), 0o700))
	res, _, err := runFile(t, path, true)
	require.NoError(t, err)
	assert.Equal(t, configtest.Result{Passed: 1}, res)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "out", "new.golden"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "sink alarms (http): 1 delivery\n  1. route alarms, sequence 1, at 0s, key ")
	res, out, err := runFile(t, path, false)
	require.NoError(t, err)
	assert.Equal(t, configtest.Result{Passed: 1}, res, out)
}

func TestInvalidFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", oneEvent + "    expectt: {}\n", "field expectt not found"},
		{"nothing to check", oneEvent, "nothing to check"},
		{"unknown sink", oneEvent + "    expect: {linez: []}\n", `the config has no sink "linez" (sinks: alarms, lines, states)`},
		{"unknown route", oneEvent + "    expect: {lines: [{route: nope}]}\n", `the config has no route "nope"`},
		{"unknown source", strings.Replace(oneEvent, "from: web", "from: webb", 1) + "    expect: {lines: []}\n", `no source "webb" (sources: beat, web)`},
		{"bad expr", oneEvent + "    expect: {lines: [{expr: 'event.'}]}\n", "expr: invalid expression"},
		{"not a cloudevent", strings.Replace(oneEvent, "type: vm.alarm, ", "", 1) + "    expect: {lines: []}\n", "invalid cloudevent"},
		{"event and file", strings.Replace(oneEvent, "- from: web", "- from: web\n        file: beats.jsonl", 1) + "    expect: {lines: []}\n", "give one of event and file"},
		{"time runs back", oneEvent + "      - {from: web, at: 2s, event: {type: x}}\n      - {from: web, at: 1s, event: {type: x}}\n    expect: {lines: []}\n", "at 1s is before the previous event's 2s"},
		{"missing config", strings.Replace(oneEvent, "pipeline.yaml", "nope.yaml", 1) + "    expect: {lines: []}\n", "nope.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runFile(t, scratch(t, "x.test.yaml", tt.text), false)
			require.ErrorIs(t, err, configtest.ErrInvalidTest)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestInvalidConfigIsConfigErrors(t *testing.T) {
	t.Parallel()
	path := scratch(t, "x.test.yaml", oneEvent+"    expect: {lines: []}\n")
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(path), "pipeline.yaml"), []byte("journal: {dir: x}\nsourcez: []\n"), 0o600))
	_, _, err := runFile(t, path, false)
	var errs config.Errors
	require.ErrorAs(t, err, &errs)
	assert.Contains(t, err.Error(), "pipeline.yaml:2:1:")
}

func TestTestFileNames(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "a.yaml", configtest.DefaultConfigName("a.test.yaml"))
	assert.Equal(t, "a.yaml", configtest.DefaultConfigName("a.test.yml"))
	assert.Equal(t, "dir/a.test.yaml", configtest.TestFileFor("dir/a.yaml"))
	assert.Equal(t, "dir/a.test.yaml", configtest.TestFileFor("dir/a.test.yaml"))
}
