package pipelinetest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// toyConfig is a config with one required field.
type toyConfig struct {
	// Path is required.
	Path string `yaml:"path"`
	// Nested exercises the tag check on nested structs.
	Nested struct {
		Level int `yaml:"level"`
	} `yaml:"nested"`
}

func (c *toyConfig) Validate() error {
	if c.Path == "" {
		return errors.Join(pipeline.FieldErrorf("path", "is required"))
	}
	return nil
}

type toySource struct{}

func (toySource) Run(ctx context.Context, _ pipeline.SourceHost) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestFactorySuites(t *testing.T) {
	t.Parallel()
	t.Run("Source", func(t *testing.T) {
		t.Parallel()
		f := pipeline.NewSourceFactory("toy", func() *toyConfig { return &toyConfig{} },
			func(context.Context, pipeline.Settings, *toyConfig) (pipeline.Source, error) { return toySource{}, nil })
		pipelinetest.TestSourceFactory(t, f, "path")
	})
	t.Run("SinkNoRequired", func(t *testing.T) {
		t.Parallel()
		f := pipeline.NewSinkFactory("toy", func() *toyConfig { return &toyConfig{Path: "x"} },
			func(context.Context, pipeline.Settings, *toyConfig) (pipeline.Sink, error) {
				return pipelinetest.NewRecordingSink(), nil
			})
		pipelinetest.TestSinkFactory(t, f)
	})
}

func TestSourceSuite(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSource(t, func(*testing.T) pipeline.Source { return toySource{} })
}
