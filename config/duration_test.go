package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
)

// TestBareNumberIsSeconds: every duration setting reads a bare whole
// number as seconds (pipeline.ParseDuration), as the probe source's
// intervals always did; quoting and interpolation do not matter.
func TestBareNumberIsSeconds(t *testing.T) {
	t.Parallel()
	data := []byte(`
journal: {dir: /data}
shutdown_timeout: 30
sources:
  - {name: in, type: gen, with: {message: hi, interval: "90"}}
sinks:
  - name: out
    type: memory
    with: {path: /tmp/x, read_timeout: "${SECONDS:-7}", write_timeout: 005}
    retry: {initial: 1, max: 60}
routes:
  - {name: r, from: [in], to: [out]}
`)
	f, err := config.Parse("d.yaml", data, testRegistries(), nil)
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, f.ShutdownTimeout)
	assert.Equal(t, 90*time.Second, f.Pipeline.Sources[0].Config.(*genConfig).Interval)
	mem := f.Pipeline.Sinks[0].Config.(*memoryConfig)
	assert.Equal(t, 7*time.Second, mem.ReadTimeout)
	assert.Equal(t, 5*time.Second, mem.WriteTimeout)
	assert.Equal(t, time.Second, f.Pipeline.Sinks[0].Retry.Initial)
	assert.Equal(t, time.Minute, f.Pipeline.Sinks[0].Retry.Max)
}
