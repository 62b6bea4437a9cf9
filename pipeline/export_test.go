package pipeline

import "context"

// Hooks into the runner's per-component lifecycle for the external tests.

// StopConsumer stops one sink's consumer while the pipeline runs.
func (p *Pipeline) StopConsumer(ctx context.Context, sink string) error {
	return p.stopConsumer(ctx, sink)
}

// StartConsumer starts one sink's consumer again.
func (p *Pipeline) StartConsumer(sink string) error { return p.startConsumer(sink) }

// StopSource stops one source while the pipeline runs.
func (p *Pipeline) StopSource(ctx context.Context, source string) error {
	return p.stopSource(ctx, source)
}

// StartSource starts one source again.
func (p *Pipeline) StartSource(source string) error { return p.startSource(source) }
