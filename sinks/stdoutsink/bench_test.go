package stdoutsink_test

import (
	"io"
	"testing"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/stdoutsink"
)

func BenchmarkDeliver(b *testing.B) {
	for _, format := range []string{stdoutsink.FormatJSON, stdoutsink.FormatText} {
		b.Run(format, func(b *testing.B) {
			pipelinetest.BenchmarkSink(b, func(b *testing.B) pipeline.Sink {
				s, err := stdoutsink.NewFactory(stdoutsink.WithWriter(io.Discard)).NewSink(b.Context(),
					pipeline.NopSettings("stdout"), &stdoutsink.Config{Format: format})
				if err != nil {
					b.Fatal(err)
				}
				return s
			})
		})
	}
}
