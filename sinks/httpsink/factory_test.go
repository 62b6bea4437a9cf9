package httpsink_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

func TestFactory(t *testing.T) {
	t.Parallel()
	f := httpsink.NewFactory()
	assert.Equal(t, httpsink.Type, f.Type())
	pipelinetest.TestSinkFactory(t, f, "url")
}
