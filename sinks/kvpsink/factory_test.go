package kvpsink_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

func TestFactory(t *testing.T) {
	t.Parallel()
	f := kvpsink.NewFactory()
	assert.Equal(t, kvpsink.Type, f.Type())
	pipelinetest.TestSinkFactory(t, f)
}
