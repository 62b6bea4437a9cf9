package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
}

const mergeBase = `journal: {dir: /data}
sources:
  - {name: in, type: gen, with: {message: base}}
sinks:
  - {name: out, type: memory, with: {path: /tmp/base}}
routes:
  - {name: r, from: [in], to: [out]}
`

// Several files merge in order: mappings key by key, named entries of
// sources, sinks and routes replaced in place or appended.
func TestParseAllMerges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"10-base.yaml": mergeBase,
		"20-more.yml": `shutdown_timeout: 5s
sources:
  - {name: in, type: gen, with: {message: over}}
  - {name: second, type: gen, with: {message: two}}
routes:
  - {name: r2, from: [second], to: [out]}
`,
		"notes.txt": "not: yaml: at all: [",
	})
	f, err := config.LoadAll([]string{dir}, testRegistries())
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "10-base.yaml")+", "+filepath.Join(dir, "20-more.yml"), f.Name)
	require.Len(t, f.Pipeline.Sources, 2)
	assert.Equal(t, "over", f.Pipeline.Sources[0].Config.(*genConfig).Message, "replaced in place")
	assert.Equal(t, "second", f.Pipeline.Sources[1].Name, "appended")
	assert.Equal(t, "/data", f.Journal.Dir, "kept from the first file")
	assert.Equal(t, "5s", f.ShutdownTimeout.String())
	require.Len(t, f.Pipeline.Routes, 2)
	assert.NotEmpty(t, f.Digest)

	g, err := config.LoadAll([]string{filepath.Join(dir, "10-base.yaml")}, testRegistries())
	require.NoError(t, err)
	assert.NotEqual(t, f.Digest, g.Digest)
	h, err := config.LoadAll([]string{filepath.Join(dir, "10-base.yaml")}, testRegistries())
	require.NoError(t, err)
	assert.Equal(t, g.Digest, h.Digest, "same files, same digest")
}

// An error in a merged configuration names the file it was written in,
// at its line.
func TestParseAllErrorsNameTheirFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, second, want string
	}{
		{name: "value", second: "sinks:\n  - {name: out, type: memory, with: {path: /tmp/x, capacity: lots}}\n", want: "b.yaml:2:"},
		{name: "syntax", second: "sinks:\n\t- oops\n", want: "b.yaml:2:1: syntax error"},
		{name: "reference", second: "routes:\n  - {name: r, from: [nope], to: [out]}\n", want: "b.yaml:2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.ParseAll([]config.Source{{Name: "a.yaml", Data: []byte(mergeBase)}, {Name: "b.yaml", Data: []byte(tt.second)}},
				testRegistries(), lookupTestEnv)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "a.yaml")
		})
	}
}

// Relative ${file:...} paths resolve against the directory of the file
// that holds them; missing paths are ordinary read errors.
func TestLoadAllPaths(t *testing.T) {
	t.Parallel()
	dir, other := t.TempDir(), t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": mergeBase})
	writeFiles(t, other, map[string]string{
		"msg":    "from-other",
		"b.yaml": "sources:\n  - {name: in, type: gen, with: {message: \"${file:msg}\"}}\n",
	})
	f, err := config.LoadAll([]string{filepath.Join(dir, "a.yaml"), filepath.Join(other, "b.yaml")}, testRegistries())
	require.NoError(t, err)
	assert.Equal(t, "from-other", f.Pipeline.Sources[0].Config.(*genConfig).Message)

	_, err = config.LoadAll([]string{filepath.Join(dir, "missing.yaml")}, testRegistries())
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = config.LoadAll([]string{t.TempDir()}, testRegistries())
	assert.ErrorContains(t, err, "holds no *.yaml")
}
