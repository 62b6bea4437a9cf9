package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Provisioner is implemented by sources and sinks that do I/O before they
// can run: open files, read certificates and secrets, resolve names. It
// must not listen, connect to send, or emit: `sluice validate` calls it
// to report what `run` would fail to open, without side effects.
//
// New calls Provision once, after the factory and before Start (sinks)
// or Run (sources). A sink releases what Provision acquired in Close; a
// source when Run returns, or in a Close(context.Context) error method
// that New (when it fails) and Provision (the function) call on a source
// that will not run.
type Provisioner interface {
	Provision(ctx context.Context) error
}

// sourceCloser is the optional Close of a source, called by Provision.
type sourceCloser interface {
	Close(ctx context.Context) error
}

// closeSource calls src's optional Close (nil src: nothing to do).
func closeSource(ctx context.Context, log *slog.Logger, name string, src Source) error {
	c, ok := src.(sourceCloser)
	if !ok {
		return nil
	}
	return guard(log, "source "+name+" close", func() error { return c.Close(ctx) })
}

// provision calls c's Provision if it has one, turning a panic into an
// error.
func provision(ctx context.Context, log *slog.Logger, what string, c any) error {
	pr, ok := c.(Provisioner)
	if !ok {
		return nil
	}
	if err := guard(log, what+" provision", func() error { return pr.Provision(ctx) }); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	return nil
}

// Provision builds every source and sink of spec with the factories in
// regs, provisions each (Provisioner), then closes it, and returns every
// error joined, each naming its component. Nothing is started, no journal
// is used (sinks get an empty Settings.State, and a Settings.Sources over
// the sources built, closed by then). It is what `sluice
// validate` runs after the config checks.
func Provision(ctx context.Context, spec Spec, regs Registries, set Settings) error {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	match := newMatchErrors(tel, set.Logger, set.Clock)
	var errs []error
	built := builtSources{}
	for _, ss := range spec.Sources {
		src, err := buildSource(ctx, ss, regs, set)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", ss.Name, err))
		}
		built[ss.Name] = src
		if err := closeSource(ctx, set.Logger, ss.Name, src); err != nil {
			errs = append(errs, fmt.Errorf("source %s: close: %w", ss.Name, err))
		}
	}
	set.Sources = built // closed, but enough for a sink to check the source it names
	for _, ks := range spec.Sinks {
		s, err := newSinkRunner(ctx, ks, &spec, regs, nil, set, tel, match)
		if err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", ks.Name, err))
			continue
		}
		if err := provision(ctx, s.log, "sink "+ks.Name, s.sink); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", ks.Name, err))
		}
		if err := s.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: close: %w", ks.Name, err))
		}
	}
	return errors.Join(errs...)
}
