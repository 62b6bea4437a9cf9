package main

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

// unknownNameError is the usage error (exit 2) for a sink, route, source
// or cursor name that does not exist: it suggests the closest defined name
// and lists them all.
func unknownNameError(kind, name string, defined []string) error {
	defined = slices.Compact(slices.Sorted(slices.Values(defined)))
	list := "none is defined"
	if len(defined) > 0 {
		list = "defined: " + strings.Join(defined, ", ")
	}
	return usageErrorf("unknown %s %q%s; %s", kind, name, config.DidYouMean(name, defined), list)
}

// errFound stops a scan at the first match.
var errFound = errors.New("found")

// checkSinkName refuses a --sink name that is neither a sink of the
// configuration nor known to the journal (a cursor, or dead letters of a
// removed sink), listing the sinks that are. With --dir alone the sinks
// are not known and every name is accepted.
func (f *journalFlags) checkSinkName(ctx context.Context, v journalView, name string) error {
	if name == "" {
		return nil
	}
	sinks, err := f.configuredSinks()
	if err != nil || sinks == nil || slices.Contains(sinks, name) {
		return err
	}
	cursors, err := v.Cursors(ctx, sinks)
	if err != nil {
		return err
	}
	for _, c := range cursors {
		if c.Name == name {
			return nil
		}
	}
	err = v.DeadLetters(ctx, pipeline.DeadLetterFilter{Sink: name}, func(deadLetterView) error { return errFound })
	if errors.Is(err, errFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return unknownNameError("sink", name, sinks)
}

// checkCursorName refuses a cursor name that is neither a cursor of the
// journal nor a sink of the configuration, listing both. With --dir alone
// the sinks are not known and every name is accepted.
func (f *journalFlags) checkCursorName(ctx context.Context, v journalView, name string) error {
	sinks, err := f.configuredSinks()
	if err != nil || sinks == nil {
		return err
	}
	cursors, err := v.Cursors(ctx, sinks)
	if err != nil {
		return err
	}
	known := slices.Clone(sinks)
	for _, c := range cursors {
		known = append(known, c.Name)
	}
	if slices.Contains(known, name) {
		return nil
	}
	return unknownNameError("cursor", name, known)
}

// checkReplayNames refuses a replay of a sink or through a route spec does
// not define.
func checkReplayNames(spec pipeline.Spec, sink, route string) error {
	var sinks, routes []string
	for _, s := range spec.Sinks {
		sinks = append(sinks, s.Name)
	}
	for _, r := range spec.Routes {
		routes = append(routes, r.Name)
	}
	if !slices.Contains(sinks, sink) {
		return unknownNameError("sink", sink, sinks)
	}
	if route != "" && !slices.Contains(routes, route) {
		return unknownNameError("route", route, routes)
	}
	return nil
}
