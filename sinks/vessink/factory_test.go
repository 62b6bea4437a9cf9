package vessink_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

func TestFactory(t *testing.T) {
	t.Parallel()
	f := vessink.NewFactory()
	assert.Equal(t, vessink.Type, f.Type())
	pipelinetest.TestSinkFactory(t, f, "url")
}
