package filesink_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/filesink"
)

func TestFactory(t *testing.T) {
	t.Parallel()
	f := filesink.NewFactory()
	assert.Equal(t, filesink.Type, f.Type())
	pipelinetest.TestSinkFactory(t, f, "path")
}
