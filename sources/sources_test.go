package sources_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources"
)

func TestFactoriesRegister(t *testing.T) {
	t.Parallel()
	reg, err := pipeline.NewRegistry(sources.Factories()...)
	require.NoError(t, err, "types are valid and unique")
	assert.Equal(t, []string{"heartbeat", "http", "lbworker", "nats", "probe", "vmfault"}, reg.Types())
}
