// Package sinks lists the built-in sink factories. The composition root
// registers them explicitly; nothing registers itself in init().
package sinks

import (
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/filesink"
	"github.com/sluice-dev/sluice/sinks/haproxysink"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
	"github.com/sluice-dev/sluice/sinks/httpsink"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
	"github.com/sluice-dev/sluice/sinks/sourcesink"
	"github.com/sluice-dev/sluice/sinks/stdoutsink"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// Factories returns a new list of the built-in sink factories. The stdout
// sink writes to os.Stdout. A binary built with the build tag nok8s has
// no k8s sink and links no client-go.
func Factories() []pipeline.SinkFactory {
	return withK8s([]pipeline.SinkFactory{
		filesink.NewFactory(),
		haproxysink.NewFactory(),
		hostpluginsink.NewFactory(),
		httpsink.NewFactory(),
		kvpsink.NewFactory(),
		sourcesink.NewFactory(),
		stdoutsink.NewFactory(),
		vessink.NewFactory(),
	})
}
