package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSuggest(t *testing.T) {
	t.Parallel()
	keys := []string{"path", "url", "tls", "segment_max_bytes", "segment_max_age", "initial"}
	tests := map[string]string{
		"pth":              "path",
		"Path":             "path",
		"ulr":              "url",
		"inital":           "initial",
		"segment_max_byte": "segment_max_bytes",
		"segment_maxage":   "segment_max_age",
		"x":                "",
		"completely_else":  "",
	}
	for in, want := range tests {
		assert.Equal(t, want, suggest(in, keys), in)
	}
	assert.Equal(t, 1, editDistance("ab", "ba"))
	assert.Equal(t, 3, editDistance("", "abc"))
}

func TestPaths(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "a.b", joinPath("a", "b"))
	assert.Equal(t, "a[1]", joinPath("a", "[1]"))
	assert.Equal(t, "b", joinPath("", "b"))
	assert.Equal(t, "sinks[0].with", parentPath("sinks[0].with.url"))
	assert.Equal(t, "sinks[0]", parentPath("sinks[0].with"))
	assert.Equal(t, "sinks", parentPath("sinks[0]"))
	assert.Empty(t, parentPath("sinks"))
	assert.True(t, isUnder("sinks[0].with", "sinks[0]"))
	assert.True(t, isUnder("sinks[0]", "sinks"))
	assert.False(t, isUnder("sinks10", "sinks1"))
}
