package configtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

// Options are how Run runs a test file.
type Options struct {
	// Registries are the components configs are loaded with.
	Registries pipeline.Registries
	// Update writes golden files instead of comparing them.
	Update bool
	// Verbose reports passing tests' deliveries too.
	Verbose bool
	// Out receives the report: one line per test, details of failures.
	Out io.Writer
}

// Result counts a file's tests.
type Result struct {
	Passed, Failed int
}

// Run runs the test file at path against its config and reports to
// opts.Out. A test file that cannot be used is an error matching
// ErrInvalidTest; a config that does not load returns its config.Errors.
// Failing tests are counted in Result, not returned as errors.
func Run(ctx context.Context, path string, opts Options) (Result, error) {
	f, err := ReadFile(path)
	if err != nil {
		return Result{}, err
	}
	cfgPath := f.ConfigPath()
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s: config: %w", ErrInvalidTest, path, err)
	}
	cfg, err := config.Parse(cfgPath, data, opts.Registries, f.lookupEnv)
	if err != nil {
		return Result{}, err
	}
	r := &runner{file: f, spec: cfg.Pipeline, out: opts.Out, opts: opts}
	r.sinks, r.sources, r.routes = knownNames(cfg.Pipeline)
	if err := r.checkNames(); err != nil {
		return Result{}, err
	}
	r.encoders = buildEncoders(ctx, cfg.Pipeline, opts.Registries)
	defer r.encoders.close(ctx)
	var res Result
	for i := range f.Tests {
		ok, err := r.runTest(i)
		if err != nil {
			return res, err
		}
		if ok {
			res.Passed++
		} else {
			res.Failed++
		}
	}
	return res, nil
}

// runner runs one file's tests.
type runner struct {
	file                   *File
	spec                   pipeline.Spec
	sinks, sources, routes map[string]bool
	encoders               encoders
	out                    io.Writer
	opts                   Options
}

// checkNames refuses expectations about sinks and routes the config does
// not define, and golden files two tests share.
func (r *runner) checkNames() error {
	var errs []error
	goldens := map[string]string{}
	for i := range r.file.Tests {
		t := &r.file.Tests[i]
		for _, set := range []map[string][]Expectation{t.Expect, t.DeadLetters} {
			for sink, exps := range set {
				if !r.sinks[sink] {
					errs = append(errs, fmt.Errorf("test %q: the config has no sink %q (sinks: %s)", t.name(i), sink, names(r.sinks)))
				}
				for _, e := range exps {
					if e.Route != "" && !r.routes[e.Route] {
						errs = append(errs, fmt.Errorf("test %q: sink %s: the config has no route %q (routes: %s)", t.name(i), sink, e.Route, names(r.routes)))
					}
				}
			}
		}
		if t.Golden != "" {
			if other, ok := goldens[t.Golden]; ok {
				errs = append(errs, fmt.Errorf("tests %q and %q both write golden file %s", other, t.name(i), t.Golden))
			}
			goldens[t.Golden] = t.name(i)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidTest, r.file.Path, err)
	}
	return nil
}

// runTest runs test i and reports it; false when it failed.
func (r *runner) runTest(i int) (bool, error) {
	t := &r.file.Tests[i]
	inputs, err := r.file.inputs(t, r.sources)
	if err != nil {
		return false, fmt.Errorf("%s: test %q: %w", r.file.Path, t.name(i), err)
	}
	logs := &logCollector{}
	set := pipeline.NopSettings("test")
	set.Logger = slog.New(logs)
	sims, err := pipeline.Simulate(r.spec, inputs, set)
	if err != nil {
		return false, fmt.Errorf("%w: %s: test %q: %w", ErrInvalidTest, r.file.Path, t.name(i), err)
	}
	var failures []string
	for _, sim := range sims {
		fs, err := r.checkSink(t, sim)
		if err != nil {
			return false, fmt.Errorf("%w: %s: test %q: %w", ErrInvalidTest, r.file.Path, t.name(i), err)
		}
		failures = append(failures, fs...)
	}
	if t.Golden != "" {
		msg, err := r.golden(t, i, sims)
		if err != nil {
			return false, err
		}
		if msg != "" {
			failures = append(failures, msg)
		}
	}
	if len(failures) == 0 {
		fmt.Fprintf(r.out, "ok   %s: %s\n", r.file.Path, t.name(i))
		if r.opts.Verbose {
			fmt.Fprint(r.out, indent(r.render(sims), "    "))
		}
		return true, nil
	}
	fmt.Fprintf(r.out, "FAIL %s: %s\n", r.file.Path, t.name(i))
	for _, f := range failures {
		fmt.Fprint(r.out, indent(f, "    "))
	}
	for _, l := range logs.lines {
		fmt.Fprintf(r.out, "    log: %s\n", l)
	}
	return false, nil
}

// indent prefixes every line of s, which it ends with a newline.
func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}
