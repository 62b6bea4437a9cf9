package journal

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
)

// Config is the `journal:` section of a configuration file: which backend
// stores the journal and how. The config package decodes it strictly over
// DefaultConfig and calls Validate; Backends.Open opens what it describes.
// Settings the engine itself uses (signing, checkpoints, orphan cursors)
// are here too, whatever the backend.
type Config struct {
	// Backend names the journal implementation (Backends). "bbolt", a
	// directory of bbolt files, is the default; "nats" is the same
	// journal forwarded to a NATS JetStream stream (fleet mode, NATS).
	Backend string `yaml:"backend"`
	// NATS configures the nats backend's forwarder; ignored otherwise.
	NATS fleet.AgentConfig `yaml:"nats"`
	// Dir holds the journal's files. It is required: where durable data
	// lives should be a decision, not a default.
	Dir string `yaml:"dir" config:"required"`
	// SegmentMaxBytes starts a new segment when the current one is this
	// large.
	SegmentMaxBytes pipeline.ByteSize `yaml:"segment_max_bytes"`
	// SegmentMaxAge starts a new segment when the current one is this old.
	SegmentMaxAge time.Duration `yaml:"segment_max_age"`
	// Retention bounds what the journal keeps.
	Retention RetentionConfig `yaml:"retention"`
	// FullPolicy says what Append does when retention cannot free space.
	FullPolicy FullPolicy `yaml:"full_policy"`
	// CursorFlushInterval is how often batched cursor commits are made
	// durable when no append does it first.
	CursorFlushInterval time.Duration `yaml:"cursor_flush_interval"`
	// MaxOpenSegments bounds the sealed segments kept open (a file
	// descriptor and a memory map each); least recently used idle ones
	// are closed beyond it (Options.MaxOpenSegments).
	MaxOpenSegments int `yaml:"max_open_segments"`
	// SigningKey is an ed25519 private key file (PEM, from `sluice journal
	// keygen`). With it the engine signs a checkpoint of the journal's
	// head every CheckpointInterval and at shutdown, and signs the exports
	// it makes. $SLUICE_SIGNING_KEY is used when this is empty. A key file
	// that group or others may access (mode beyond 0600) is refused, as
	// ssh refuses one.
	SigningKey string `yaml:"signing_key"`
	// CheckpointInterval is how often a signed checkpoint is written.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// OrphanCursorTTL is how long the cursor of a sink that is no longer
	// configured may pin retention before it is removed
	// (pipeline.Spec.OrphanCursorTTL).
	OrphanCursorTTL time.Duration `yaml:"orphan_cursor_ttl"`
}

// RetentionConfig bounds the journal; zero disables a bound.
type RetentionConfig struct {
	// MaxAge drops segments whose newest record is older than this.
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBytes drops the oldest segments when the journal is larger.
	MaxBytes pipeline.ByteSize `yaml:"max_bytes"`
}

// Config.Backend values: bbolt is the default; nats forwards the bbolt
// journal to a JetStream stream (journal/natsjournal).
const (
	BackendBBolt = "bbolt"
	BackendNATS  = "nats"
)

// Defaults of a configuration file's journal section that Options has no
// default for (Options leaves retention unbounded).
const (
	DefaultRetentionMaxAge    = 168 * time.Hour
	DefaultRetentionMaxBytes  = 2 << 30
	DefaultCheckpointInterval = 5 * time.Minute
)

var (
	_ pipeline.Config = (*Config)(nil)
	_ pipeline.Config = (*RetentionConfig)(nil)
)

// DefaultConfig returns the defaults, without Dir: the bbolt backend,
// 64 MiB or 24h segments, retention of 168h and 2 GiB, refusing appends
// when full, cursor flushes every second, at most 64 open sealed
// segments, a checkpoint every 5 minutes
// and orphan cursors kept for 24h.
func DefaultConfig() Config {
	return Config{
		Backend:             BackendBBolt,
		SegmentMaxBytes:     DefaultSegmentMaxBytes,
		SegmentMaxAge:       DefaultSegmentMaxAge,
		Retention:           RetentionConfig{MaxAge: DefaultRetentionMaxAge, MaxBytes: DefaultRetentionMaxBytes},
		FullPolicy:          FullPolicyRefuse,
		CursorFlushInterval: DefaultCursorFlushInterval,
		MaxOpenSegments:     DefaultMaxOpenSegments,
		CheckpointInterval:  DefaultCheckpointInterval,
		OrphanCursorTTL:     pipeline.DefaultOrphanCursorTTL,
		NATS:                fleet.DefaultAgentConfig(),
	}
}

// Validate reports every invalid setting as a pipeline.FieldError.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if !slices.Contains(BackendNames(), c.Backend) {
		bad("backend", "must be one of %s, got %q", strings.Join(BackendNames(), ", "), c.Backend)
	}
	if c.Dir == "" {
		bad("dir", "must not be empty")
	}
	errs = append(errs, pipeline.PrefixFieldErrors("nats", c.NATS.Validate()))
	if c.Backend == BackendNATS {
		errs = append(errs, pipeline.PrefixFieldErrors("nats.conn", c.NATS.Conn.RequireURL()))
	}
	if c.SegmentMaxBytes < minSegmentBytes {
		bad("segment_max_bytes", "must be at least %s, got %s", pipeline.ByteSize(minSegmentBytes), c.SegmentMaxBytes)
	}
	if c.SegmentMaxAge <= 0 {
		bad("segment_max_age", "must be positive, got %s", c.SegmentMaxAge)
	}
	if c.Retention.MaxBytes > 0 && c.Retention.MaxBytes < 2*c.SegmentMaxBytes {
		bad("retention.max_bytes", "must be at least twice segment_max_bytes (%s), so a sealed segment can exist beside the active one; got %s", 2*c.SegmentMaxBytes, c.Retention.MaxBytes)
	}
	if c.OrphanCursorTTL <= 0 {
		bad("orphan_cursor_ttl", "must be positive, got %s", c.OrphanCursorTTL)
	}
	if c.CheckpointInterval <= 0 {
		bad("checkpoint_interval", "must be positive, got %s", c.CheckpointInterval)
	}
	switch c.FullPolicy {
	case FullPolicyRefuse, FullPolicyDropOldest:
	default:
		bad("full_policy", "must be %s or %s, got %q", FullPolicyRefuse, FullPolicyDropOldest, c.FullPolicy)
	}
	if c.CursorFlushInterval <= 0 {
		bad("cursor_flush_interval", "must be positive, got %s", c.CursorFlushInterval)
	}
	if c.MaxOpenSegments < 1 {
		bad("max_open_segments", "must be at least 1, got %d", c.MaxOpenSegments)
	}
	return errors.Join(errs...)
}

// Validate reports negative bounds.
func (c *RetentionConfig) Validate() error {
	var errs []error
	if c.MaxAge < 0 {
		errs = append(errs, pipeline.FieldErrorf("max_age", "must not be negative (0 keeps records of any age), got %s", c.MaxAge))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, pipeline.FieldErrorf("max_bytes", "must not be negative (0 means no size limit), got %s", c.MaxBytes))
	}
	return errors.Join(errs...)
}

// UnmarshalText implements encoding.TextUnmarshaler, accepting only the
// defined policies.
func (p *FullPolicy) UnmarshalText(text []byte) error {
	switch v := FullPolicy(text); v {
	case FullPolicyRefuse, FullPolicyDropOldest:
		*p = v
		return nil
	}
	return fmt.Errorf("want %s or %s, got %q", FullPolicyRefuse, FullPolicyDropOldest, text)
}

// Options returns the bbolt journal's Options for c, with set's logger
// (as component "journal"), telemetry and clock.
func (c *Config) Options(set pipeline.Settings, readOnly bool) Options {
	set = set.WithDefaults()
	return Options{
		SegmentMaxBytes:     int64(c.SegmentMaxBytes),
		SegmentMaxAge:       c.SegmentMaxAge,
		RetentionMaxAge:     c.Retention.MaxAge,
		RetentionMaxBytes:   int64(c.Retention.MaxBytes),
		FullPolicy:          c.FullPolicy,
		CursorFlushInterval: c.CursorFlushInterval,
		MaxOpenSegments:     c.MaxOpenSegments,
		ReadOnly:            readOnly,
		Logger:              set.Logger.With("component", "journal"),
		MeterProvider:       set.MeterProvider,
		TracerProvider:      set.TracerProvider,
		Clock:               set.Clock,
	}
}
