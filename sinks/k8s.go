//go:build !nok8s

package sinks

import (
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

// withK8s adds the k8s sink to fs.
func withK8s(fs []pipeline.SinkFactory) []pipeline.SinkFactory {
	return append(fs, k8ssink.NewFactory())
}
