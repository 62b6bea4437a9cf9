package config_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
)

// The test factories stand in for real components: a "gen" source and a
// "memory" sink whose configs exercise every kind of field the loader
// supports.

type genConfig struct {
	Message  string            `yaml:"message" config:"required"`
	Interval time.Duration     `yaml:"interval"`
	Count    int               `yaml:"count"`
	Ratio    float64           `yaml:"ratio"`
	Enabled  bool              `yaml:"enabled"`
	Labels   map[string]string `yaml:"labels"`
	Fields   []genField        `yaml:"fields"`
	Token    pipeline.Secret   `yaml:"token"`
	Severity pipeline.Severity `yaml:"severity"`
	TLS      *tlsConfig        `yaml:"tls"`
	Mode     mode              `yaml:"mode"`
	Extra    any               `yaml:"extra"`
	Port     uint16            `yaml:"port"`
	// ReplyAfter names sinks, checked as references.
	ReplyAfter []string `yaml:"reply_after" config:"sink"`
}

type genField struct {
	Name  string `yaml:"name,required"`
	Value string `yaml:"value"`
	Type  string `yaml:"type"`
}

// SetDefaults gives list elements a default type.
func (f *genField) SetDefaults() { f.Type = "string" }

type tlsConfig struct {
	CAFile   string `yaml:"ca_file"`
	Insecure bool   `yaml:"insecure"`
}

func (c *tlsConfig) Validate() error {
	if c.Insecure && c.CAFile != "" {
		return pipeline.FieldErrorf("insecure", "cannot be combined with ca_file")
	}
	return nil
}

// mode has custom syntax: a bare name, or a mapping {name: x, level: n}.
type mode struct {
	Name  string
	Level int
}

func (m *mode) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		m.Name = n.Value
		return nil
	}
	var raw struct {
		Name  string `yaml:"name"`
		Level int    `yaml:"level"`
	}
	if err := n.Decode(&raw); err != nil {
		return fmt.Errorf("want a mode name or {name, level}: %w", err)
	}
	if raw.Level < 0 {
		return errors.New("mode level must not be negative")
	}
	m.Name, m.Level = raw.Name, raw.Level
	return nil
}

func defaultGenConfig() *genConfig {
	return &genConfig{Interval: time.Second, Count: 10, Ratio: 0.5, Labels: map[string]string{"default": "yes"}}
}

func (c *genConfig) Validate() error {
	var errs []error
	if c.Message == "" {
		errs = append(errs, pipeline.FieldErrorf("message", "must not be empty"))
	}
	if c.Interval <= 0 {
		errs = append(errs, pipeline.FieldErrorf("interval", "must be positive, got %s", c.Interval))
	}
	if c.Count < 0 {
		errs = append(errs, pipeline.FieldErrorf("count", "must not be negative, got %d", c.Count))
	}
	seen := map[string]bool{}
	for i, f := range c.Fields {
		if seen[f.Name] {
			errs = append(errs, pipeline.FieldErrorf(fmt.Sprintf("fields[%d].name", i), "duplicate field name %q", f.Name))
		}
		seen[f.Name] = true
	}
	if c.TLS != nil {
		// Validating nested configs here too must not duplicate errors.
		errs = append(errs, pipeline.PrefixFieldErrors("tls", c.TLS.Validate()))
	}
	return errors.Join(errs...)
}

type memoryConfig struct {
	Path       string            `yaml:"path" config:"required"`
	Capacity   pipeline.ByteSize `yaml:"capacity"`
	FlushEvery time.Duration     `yaml:"flush_every"`
	Endpoint   endpointConfig    `yaml:"endpoint"`
	Headers    []string          `yaml:"headers"`
	Rules      []memoryRule      `yaml:"rules"`
	Timeouts
}

// memoryRule names routes, checked as references (as the VES sink's rules).
type memoryRule struct {
	Routes []string `yaml:"routes" config:"route"`
	Only   string   `yaml:"only" config:"route"`
}

// Timeouts is embedded, so its keys sit beside memoryConfig's.
type Timeouts struct {
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

type endpointConfig struct {
	URL      string          `yaml:"url"`
	Username string          `yaml:"username"`
	Password pipeline.Secret `yaml:"password"`
}

func defaultMemoryConfig() *memoryConfig {
	return &memoryConfig{Capacity: 1 << 20, FlushEvery: time.Second, Timeouts: Timeouts{ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}}
}

func (c *memoryConfig) Validate() error {
	var errs []error
	if c.Capacity < 1<<10 {
		errs = append(errs, pipeline.FieldErrorf("capacity", "must be at least 1KiB, got %s", c.Capacity))
	}
	if c.Endpoint.URL != "" && !strings.HasPrefix(c.Endpoint.URL, "http://") && !strings.HasPrefix(c.Endpoint.URL, "https://") {
		errs = append(errs, pipeline.FieldErrorf("endpoint.url", "must be an http:// or https:// URL"))
	}
	for i, h := range c.Headers {
		if !strings.Contains(h, ":") {
			errs = append(errs, pipeline.FieldErrorf(fmt.Sprintf("headers[%d]", i), "want \"Name: value\", got %q", h))
		}
	}
	if c.WriteTimeout <= 0 {
		errs = append(errs, pipeline.FieldErrorf("write_timeout", "must be positive"))
	}
	if c.Endpoint.Username != "" && c.Endpoint.Password == "" {
		errs = append(errs, errors.New("endpoint.username needs endpoint.password"))
	}
	return errors.Join(errs...)
}

func testRegistries() pipeline.Registries {
	sources, err := pipeline.NewRegistry(
		pipeline.NewSourceFactory("gen", defaultGenConfig, func(context.Context, pipeline.Settings, *genConfig) (pipeline.Source, error) {
			return nil, errors.New("config tests only decode and validate; they never build components")
		}),
		pipeline.NewSourceFactory("http", defaultGenConfig, func(context.Context, pipeline.Settings, *genConfig) (pipeline.Source, error) {
			return nil, errors.New("config tests only decode and validate; they never build components")
		}),
	)
	if err != nil {
		panic(err)
	}
	sinks, err := pipeline.NewRegistry(
		pipeline.NewSinkFactory("memory", defaultMemoryConfig, func(context.Context, pipeline.Settings, *memoryConfig) (pipeline.Sink, error) {
			return nil, errors.New("config tests only decode and validate; they never build components")
		}),
		pipeline.NewSinkFactory("file", defaultMemoryConfig, func(context.Context, pipeline.Settings, *memoryConfig) (pipeline.Sink, error) {
			return nil, errors.New("config tests only decode and validate; they never build components")
		}),
	)
	if err != nil {
		panic(err)
	}
	return pipeline.Registries{Sources: sources, Sinks: sinks}
}

// testEnv is the environment every fixture is parsed with.
var testEnv = map[string]string{
	"SINK_PATH":   "/var/lib/sluice/out.jsonl",
	"SECRET_PASS": "hunter2-do-not-print",
	"EMPTY":       "",
	"NOT_A_DUR":   "hunter2-do-not-print",
	"PORT":        "8088",
}

func lookupTestEnv(k string) (string, bool) {
	v, ok := testEnv[k]
	return v, ok
}
