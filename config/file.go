package config

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
)

// File is a loaded, validated config file.
type File struct {
	// Name is the file name given to Load or Parse, used in messages.
	Name string
	// Journal configures the durable event log.
	Journal JournalConfig
	// Admin configures the admin HTTP endpoint.
	Admin AdminConfig
	// Log configures the process's own logs.
	Log LogConfig
	// ShutdownTimeout bounds a graceful stop; it is also
	// Pipeline.ShutdownTimeout.
	ShutdownTimeout time.Duration
	// Pipeline holds the sources, sinks and routes. Each Config is the
	// value its factory's DefaultConfig returned, with the file's `with`
	// decoded over it and validated.
	Pipeline pipeline.Spec
	// Warnings are suspicious but valid settings, such as a source no
	// route reads, sorted by position.
	Warnings []Warning

	// Digest is the SHA-256 (hex) of the files' names and contents as
	// read: equal digests, equal configuration.
	Digest string

	// nodes locates the file's values by path, for Locate; origins and
	// files name the file of each node when several were merged.
	nodes   map[string]*yaml.Node
	origins map[*yaml.Node]string
	files   []string
	// secrets are the values interpolation produced, which Locate's
	// messages never show.
	secrets []secretText
}

// DefaultShutdownTimeout is shutdown_timeout when the file does not set it.
const DefaultShutdownTimeout = 30 * time.Second

// document is the file's top level as decoded, before components are
// looked up in the registries.
type document struct {
	Journal         JournalConfig `yaml:"journal" config:"required"`
	Admin           AdminConfig   `yaml:"admin"`
	Log             LogConfig     `yaml:"log"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	Sources         []sourceEntry `yaml:"sources"`
	Sinks           []sinkEntry   `yaml:"sinks"`
	Routes          []routeEntry  `yaml:"routes"`
}

func defaultDocument() document {
	return document{
		Journal:         DefaultJournalConfig(),
		Admin:           DefaultAdminConfig(),
		Log:             DefaultLogConfig(),
		ShutdownTimeout: DefaultShutdownTimeout,
	}
}

// ignoreKey lets top-level keys starting with "x-" hold YAML anchors for
// reuse, as in Docker Compose files.
func (*document) ignoreKey(key string) bool { return strings.HasPrefix(key, "x-") }

// sourceEntry is the envelope of one source.
type sourceEntry struct {
	Name string     `yaml:"name" config:"required"`
	Type string     `yaml:"type" config:"required"`
	With *yaml.Node `yaml:"with"`
}

var (
	_ keyFilter = (*document)(nil)
	_ Defaulter = (*sinkEntry)(nil)
)

// sinkEntry is the envelope of one sink.
type sinkEntry struct {
	Name  string               `yaml:"name" config:"required"`
	Type  string               `yaml:"type" config:"required"`
	With  *yaml.Node           `yaml:"with"`
	Retry pipeline.RetryConfig `yaml:"retry"`
	Batch pipeline.BatchConfig `yaml:"batch"`
	// Throttle limits deliveries per key for the routes to this sink that
	// have no throttle of their own.
	Throttle *ThrottleConfig `yaml:"throttle"`
	// StartAt is where the sink begins when it has no cursor yet: oldest
	// (the default), newest, or an RFC 3339 time.
	StartAt pipeline.StartAt `yaml:"start_at"`
}

// SetDefaults implements Defaulter.
func (s *sinkEntry) SetDefaults() {
	s.Retry = pipeline.DefaultRetryConfig()
	s.Batch = pipeline.DefaultBatchConfig()
}
