package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// writtenHook records its value interpolated and as written.
type writtenHook struct{ Value, Written []string }

func (h *writtenHook) UnmarshalYAML(n *yaml.Node) error {
	h.Value = scalarsOf(n)
	return nil
}

func (h *writtenHook) UnmarshalYAMLWritten(n *yaml.Node) error {
	h.Written = scalarsOf(n)
	return nil
}

func scalarsOf(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// TestWrittenUnmarshaler checks that a WrittenUnmarshaler sees its value
// with the ${...} references as written (aliases expanded) besides the
// interpolated one.
func TestWrittenUnmarshaler(t *testing.T) {
	t.Parallel()
	var out struct {
		Cmd  writtenHook `yaml:"cmd"`
		Line writtenHook `yaml:"line"`
		Ref  writtenHook `yaml:"ref"`
	}
	errs := decodeString(t, "cmd: [/bin/check, --pw, '${S}', &n '${N}']\nline: check ${S}\nref: [*n]\n", &out)
	require.Empty(t, errs)
	assert.Equal(t, []string{"/bin/check", "--pw", "s3cret", "42"}, out.Cmd.Value)
	assert.Equal(t, []string{"/bin/check", "--pw", "${S}", "${N}"}, out.Cmd.Written)
	assert.Equal(t, []string{"check s3cret"}, out.Line.Value)
	assert.Equal(t, []string{"check ${S}"}, out.Line.Written)
	assert.Equal(t, []string{"${N}"}, out.Ref.Written)
}
