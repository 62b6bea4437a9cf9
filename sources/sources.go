// Package sources lists the built-in source factories. The composition
// root registers them explicitly; nothing registers itself in init().
package sources

import (
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources/heartbeatsource"
	"github.com/sluice-dev/sluice/sources/httpsource"
	"github.com/sluice-dev/sluice/sources/lbworkersource"
	"github.com/sluice-dev/sluice/sources/natssource"
	"github.com/sluice-dev/sluice/sources/probesource"
	"github.com/sluice-dev/sluice/sources/vmfaultsource"
)

// Factories returns a new list of the built-in source factories.
func Factories() []pipeline.SourceFactory {
	return []pipeline.SourceFactory{
		heartbeatsource.NewFactory(),
		httpsource.NewFactory(),
		lbworkersource.NewFactory(),
		natssource.NewFactory(),
		probesource.NewFactory(),
		vmfaultsource.NewFactory(),
	}
}
