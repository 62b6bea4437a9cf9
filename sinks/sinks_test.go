package sinks_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks"
)

func TestFactoriesRegister(t *testing.T) {
	t.Parallel()
	reg, err := pipeline.NewRegistry(sinks.Factories()...)
	require.NoError(t, err, "types are valid and unique")
	assert.Equal(t, []string{"file", "haproxy", "hostplugin", "http", "k8s", "kvp", "source", "stdout", "ves"}, reg.Types())
}
