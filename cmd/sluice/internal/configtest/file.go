package configtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
)

// ErrInvalidTest is returned (wrapped) for a test file that cannot be
// read or understood, or that names a sink, source or route the config
// does not define.
var ErrInvalidTest = errors.New("invalid test file")

// DefaultStart is when the first event arrives unless the file says.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// File is a parsed test file.
type File struct {
	// Path is where it was read from.
	Path string `yaml:"-"`
	// Config is the config file, relative to the test file.
	Config string `yaml:"config"`
	// Env holds the config's ${VAR} values.
	Env map[string]string `yaml:"env"`
	// Start is when the first event arrives.
	Start time.Time `yaml:"start"`
	// Tests are run in order.
	Tests []Test `yaml:"tests"`
}

// Test is one case: events in, deliveries expected.
type Test struct {
	Name   string  `yaml:"name"`
	Events []Input `yaml:"events"`
	// Expect lists, per sink, every delivery it must get, in order.
	Expect map[string][]Expectation `yaml:"expect"`
	// DeadLetters lists, per sink, every event its routes dead-letter.
	DeadLetters map[string][]Expectation `yaml:"dead_letters"`
	// Golden is a file holding every sink's deliveries as rendered.
	Golden string `yaml:"golden"`
}

// Input is one event, or a file of them, emitted by a source.
type Input struct {
	From  string         `yaml:"from"`
	At    *time.Duration `yaml:"at"`
	Event map[string]any `yaml:"event"`
	File  string         `yaml:"file"`
}

// Expectation is what one delivery (or dead letter) must be.
type Expectation struct {
	Route    string         `yaml:"route"`
	At       *time.Duration `yaml:"at"`
	Event    map[string]any `yaml:"event"`
	Contains map[string]any `yaml:"contains"`
	Expr     string         `yaml:"expr"`
	// Reason is a dead letter's reason ("match failed", "transform failed").
	Reason string `yaml:"reason"`
}

// ReadFile reads and checks the test file at path (not yet against its
// config).
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTest, err)
	}
	f := &File{Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalidTest, path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if f.Config == "" {
		f.Config = DefaultConfigName(filepath.Base(path))
	}
	if f.Start.IsZero() {
		f.Start = DefaultStart
	}
	var errs []error
	if len(f.Tests) == 0 {
		errs = append(errs, errors.New("no tests"))
	}
	for i := range f.Tests {
		errs = append(errs, f.Tests[i].check(i))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidTest, path, err)
	}
	return f, nil
}

// DefaultConfigName is the config a test file tests when it does not say:
// NAME.yaml for NAME.test.yaml.
func DefaultConfigName(testFile string) string {
	for _, ext := range []string{".test.yaml", ".test.yml"} {
		if strings.HasSuffix(testFile, ext) {
			return strings.TrimSuffix(testFile, ext) + ".yaml"
		}
	}
	return strings.TrimSuffix(testFile, filepath.Ext(testFile)) + ".yaml"
}

// TestFileFor returns the test file beside config path (NAME.test.yaml
// for NAME.yaml), or path itself if it is a test file.
func TestFileFor(path string) string {
	base := filepath.Base(path)
	if strings.HasSuffix(base, ".test.yaml") || strings.HasSuffix(base, ".test.yml") {
		return path
	}
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".test.yaml"
}

// ConfigPath is the config file the test file tests.
func (f *File) ConfigPath() string {
	if filepath.IsAbs(f.Config) {
		return f.Config
	}
	return filepath.Join(filepath.Dir(f.Path), f.Config)
}

// lookupEnv is the config's environment: the file's env only.
func (f *File) lookupEnv(k string) (string, bool) {
	v, ok := f.Env[k]
	return v, ok
}

func (t *Test) check(i int) error {
	where := fmt.Sprintf("tests[%d]", i)
	if t.Name != "" {
		where += fmt.Sprintf(" (%s)", t.Name)
	}
	var errs []error
	if len(t.Events) == 0 {
		errs = append(errs, fmt.Errorf("%s: no events", where))
	}
	if len(t.Expect) == 0 && len(t.DeadLetters) == 0 && t.Golden == "" {
		errs = append(errs, fmt.Errorf("%s: nothing to check: give expect, dead_letters or golden", where))
	}
	for j, in := range t.Events {
		switch {
		case in.From == "":
			errs = append(errs, fmt.Errorf("%s.events[%d]: from is required (the source that emits the event)", where, j))
		case (in.Event == nil) == (in.File == ""):
			errs = append(errs, fmt.Errorf("%s.events[%d]: give one of event and file", where, j))
		case in.At != nil && *in.At < 0:
			errs = append(errs, fmt.Errorf("%s.events[%d].at: must not be negative", where, j))
		}
	}
	for sink, exps := range t.Expect {
		for j, e := range exps {
			if e.Reason != "" {
				errs = append(errs, fmt.Errorf("%s.expect.%s[%d]: reason is for dead_letters", where, sink, j))
			}
		}
	}
	return errors.Join(errs...)
}

// name is how a test is named in reports.
func (t *Test) name(i int) string {
	if t.Name != "" {
		return t.Name
	}
	return fmt.Sprintf("tests[%d]", i)
}

// knownNames returns the names of spec's sinks, sources and routes.
func knownNames(spec pipeline.Spec) (sinks, sources, routes map[string]bool) {
	sinks, sources, routes = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range spec.Sinks {
		sinks[s.Name] = true
	}
	for _, s := range spec.Sources {
		sources[s.Name] = true
	}
	for _, r := range spec.Routes {
		routes[r.Name] = true
		for _, from := range r.From {
			// A router's routes name its agents' sources
			// (journal.nats.router.sources); the config check made every
			// from a source.
			sources[from] = true
		}
	}
	return sinks, sources, routes
}
