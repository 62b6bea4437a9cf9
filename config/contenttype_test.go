package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestExpressionDataByContentType: CEL sees data only when it is JSON by
// pipeline.IsJSONContentType (absent counts as JSON); text that happens to
// parse as JSON is not data.
func TestExpressionDataByContentType(t *testing.T) {
	t.Parallel()
	x, err := config.CompileExpression(`event.data != null`)
	require.NoError(t, err)
	tests := []struct {
		ct, data string
		want     bool
	}{
		{"", `{"a":1}`, true},
		{"application/json", `42`, true},
		{"Application/JSON; charset=utf-8", `[1]`, true},
		{"application/problem+json", `{"a":1}`, true},
		{"text/plain", `42`, false},
		{"application/octet-stream", `{"a":1}`, false},
		{"application/json", `not json`, false},
	}
	for _, tt := range tests {
		got, err := x.Match(&pipeline.Event{DataContentType: tt.ct, Data: []byte(tt.data)})
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "%q %s", tt.ct, tt.data)
	}
}
