//go:build nok8s

package sinks

import "github.com/sluice-dev/sluice/pipeline"

// withK8s returns fs: this binary is built without the k8s sink.
func withK8s(fs []pipeline.SinkFactory) []pipeline.SinkFactory { return fs }
