package config_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestLocate(t *testing.T) {
	t.Parallel()
	f, err := config.Parse("f.yaml", []byte(`journal: {dir: /j}
sources: [{name: a, type: gen, with: {message: hi}}]
sinks:
  - name: s
    type: memory
    with:
      path: /x
routes: [{name: r, from: [a], to: [s]}]
`), testRegistries(), nil)
	require.NoError(t, err)
	require.NoError(t, f.Locate(config.KindSink, 0, nil))
	tests := []struct {
		name string
		kind string
		err  error
		want string
	}{
		{"field error", config.KindSink, fmt.Errorf("sink s: %w", pipeline.FieldErrorf("path", "unreadable")), "f.yaml:7:13: sinks[0].with.path: sink s: path: unreadable"},
		{"named in the message", config.KindSink, errors.New("sink s: provision: path: bad"), "f.yaml:7:13: sinks[0].with.path: sink s: provision: path: bad"},
		{"unknown setting", config.KindSink, errors.New("sink s: provision: boom"), "f.yaml:7:7: sinks[0].with: sink s: provision: boom"},
		{"source", config.KindSource, errors.New("source a: boom"), "f.yaml:2:38: sources[0].with: source a: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := f.Locate(tt.kind, 0, tt.err)
			var es config.Errors
			require.ErrorAs(t, err, &es)
			require.Len(t, es, 1)
			assert.Equal(t, tt.want, es[0].Error())
			assert.ErrorIs(t, err, tt.err)
		})
	}
}
