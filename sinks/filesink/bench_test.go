package filesink_test

import (
	"path/filepath"
	"testing"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/filesink"
)

func BenchmarkDeliver(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(map[bool]string{false: "nofsync", true: "fsync"}[fsync], func(b *testing.B) {
			pipelinetest.BenchmarkSink(b, func(b *testing.B) pipeline.Sink {
				s, err := filesink.NewFactory().NewSink(b.Context(), pipeline.NopSettings("file"),
					&filesink.Config{Path: filepath.Join(b.TempDir(), "out.jsonl"), FSync: fsync})
				if err != nil {
					b.Fatal(err)
				}
				return s
			})
		})
	}
}
