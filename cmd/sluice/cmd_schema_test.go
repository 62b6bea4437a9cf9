package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/cmd/sluice/internal/builtin"
	"github.com/sluice-dev/sluice/cmd/sluice/internal/schemagen"
)

// TestGeneratedFilesAreFresh fails when schema.json, docs/config.md or a
// component page differs from what go generate writes now (a type, a
// doc comment, a component or an example changed).
func TestGeneratedFilesAreFresh(t *testing.T) {
	t.Parallel()
	regs, err := builtin.Registries()
	require.NoError(t, err)
	require.NoError(t, schemagen.Check(filepath.Join("..", ".."), regs))
}

// compiledSchema compiles the embedded schema with a JSON Schema
// validator independent of the generator.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(configSchema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(schemagen.SchemaID, doc))
	s, err := c.Compile(schemagen.SchemaID)
	require.NoError(t, err)
	return s
}

// yamlValue decodes a YAML config into the JSON data model.
func yamlValue(t *testing.T, text []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(text, &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return out
}

func TestSchemaAcceptsEveryExample(t *testing.T) {
	t.Parallel()
	s := compiledSchema(t)
	for _, f := range append(exampleConfigs(t), "default.yaml") {
		text, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NoError(t, s.Validate(yamlValue(t, text)), f)
	}
}

func TestSchemaRefusesWhatTheLoaderRefuses(t *testing.T) {
	t.Parallel()
	s := compiledSchema(t)
	base := "journal: {dir: ./j}\nsources: [{name: in, type: http, with: {listen: \"127.0.0.1:1\"}}]\nsinks: [{name: out, type: stdout}]\nroutes: [{name: r, from: [in], to: [out]}]\n"
	require.NoError(t, s.Validate(yamlValue(t, []byte(base))))
	tests := []struct{ name, text string }{
		{"unknown top-level key", base + "sourcez: []\n"},
		{"unknown key in with", "journal: {dir: ./j}\nsources: [{name: in, type: http, with: {lisen: x}}]\n"},
		{"unknown type", "journal: {dir: ./j}\nsinks: [{name: out, type: stdoot}]\n"},
		{"wrong type in with", "journal: {dir: ./j}\nsinks: [{name: out, type: file, with: {path: ./x, fsync: maybe}}]\n"},
		{"bad duration", base + "shutdown_timeout: soon\n"},
		{"bad enum", "journal: {dir: ./j, full_policy: explode}\n"},
		{"missing required", "journal: {dir: ./j}\nroutes: [{name: r, from: [in]}]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Error(t, s.Validate(yamlValue(t, []byte(tt.text))))
		})
	}
	// What the loader accepts, the schema accepts: quoted numbers, ${VAR}s, x- keys.
	ok := "journal: {dir: ./j}\nx-anchors: {a: 1}\nshutdown_timeout: 30\nsinks: [{name: out, type: file, with: {path: ./x, fsync: \"${FSYNC}\"}, batch: {max_events: \"10\", max_bytes: 1MiB}}]\n"
	assert.NoError(t, s.Validate(yamlValue(t, []byte(ok))))
}

func TestSchemaCommand(t *testing.T) {
	t.Parallel()
	code, out, _ := sluice(t, "schema")
	require.Equal(t, exitOK, code)
	assert.JSONEq(t, string(configSchema), out)
	assert.Contains(t, out, `"$id": "`+schemagen.SchemaID+`"`)
}
