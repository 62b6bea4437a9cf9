package config

import (
	"encoding"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

var (
	_ pipeline.Config          = (*JournalConfig)(nil)
	_ pipeline.Config          = (*RetentionConfig)(nil)
	_ pipeline.Config          = (*AdminConfig)(nil)
	_ pipeline.Config          = (*LogConfig)(nil)
	_ encoding.TextUnmarshaler = (*FullPolicy)(nil)
	_ encoding.TextUnmarshaler = (*LogFormat)(nil)
)

// JournalConfig configures the journal.
type JournalConfig struct {
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
	// SigningKey is an ed25519 private key file (PEM, from `sluice journal
	// keygen`). With it the engine signs a checkpoint of the journal's
	// head every CheckpointInterval and at shutdown, and signs the exports
	// it makes. $SLUICE_SIGNING_KEY is used when this is empty.
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

// FullPolicy is what the journal does when it is full.
type FullPolicy string

// Full policies.
const (
	// FullPolicyRefuse fails appends with pipeline.ErrJournalFull, so that
	// sources push back on their clients; nothing is lost.
	FullPolicyRefuse FullPolicy = "refuse"
	// FullPolicyDropOldest drops the oldest segment even if a sink has not
	// read it yet.
	FullPolicyDropOldest FullPolicy = "drop_oldest"
)

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

// DefaultJournalConfig returns the journal defaults, without Dir: 64MiB or
// 24h segments, retention of 168h and 2GiB, refusing appends when full and
// flushing cursors every second.
func DefaultJournalConfig() JournalConfig {
	return JournalConfig{
		SegmentMaxBytes:     64 << 20,
		SegmentMaxAge:       24 * time.Hour,
		Retention:           RetentionConfig{MaxAge: 168 * time.Hour, MaxBytes: 2 << 30},
		FullPolicy:          FullPolicyRefuse,
		CursorFlushInterval: time.Second,
		CheckpointInterval:  5 * time.Minute,
		OrphanCursorTTL:     pipeline.DefaultOrphanCursorTTL,
	}
}

// Validate reports every invalid journal setting.
func (c *JournalConfig) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, pipeline.FieldErrorf("dir", "must not be empty"))
	}
	if c.SegmentMaxBytes <= 0 {
		errs = append(errs, pipeline.FieldErrorf("segment_max_bytes", "must be positive, got %s", c.SegmentMaxBytes))
	}
	if c.SegmentMaxAge <= 0 {
		errs = append(errs, pipeline.FieldErrorf("segment_max_age", "must be positive, got %s", c.SegmentMaxAge))
	}
	if c.Retention.MaxBytes > 0 && c.Retention.MaxBytes < 2*c.SegmentMaxBytes {
		errs = append(errs, pipeline.FieldErrorf("retention.max_bytes", "must be at least twice segment_max_bytes (%s), so a sealed segment can exist beside the active one; got %s", 2*c.SegmentMaxBytes, c.Retention.MaxBytes))
	}
	if c.OrphanCursorTTL <= 0 {
		errs = append(errs, pipeline.FieldErrorf("orphan_cursor_ttl", "must be positive, got %s", c.OrphanCursorTTL))
	}
	if c.CheckpointInterval <= 0 {
		errs = append(errs, pipeline.FieldErrorf("checkpoint_interval", "must be positive, got %s", c.CheckpointInterval))
	}
	switch c.FullPolicy {
	case FullPolicyRefuse, FullPolicyDropOldest:
	default:
		errs = append(errs, pipeline.FieldErrorf("full_policy", "must be %s or %s, got %q", FullPolicyRefuse, FullPolicyDropOldest, c.FullPolicy))
	}
	if c.CursorFlushInterval <= 0 {
		errs = append(errs, pipeline.FieldErrorf("cursor_flush_interval", "must be positive, got %s", c.CursorFlushInterval))
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

// AdminConfig configures the admin HTTP endpoint (/healthz, /readyz,
// /metrics, /debug/pprof).
type AdminConfig struct {
	// Listen is host:port. "off" or "" disables the endpoint.
	Listen string `yaml:"listen"`
}

// AdminListenOff is the Listen value that disables the admin endpoint.
const AdminListenOff = "off"

// DefaultAdminConfig listens on loopback only: pprof must not be exposed
// by accident.
func DefaultAdminConfig() AdminConfig { return AdminConfig{Listen: "127.0.0.1:9464"} }

// Enabled reports whether the admin endpoint should run.
func (c AdminConfig) Enabled() bool { return c.Listen != "" && c.Listen != AdminListenOff }

// Validate checks that Listen is host:port with a numeric port.
func (c *AdminConfig) Validate() error {
	if !c.Enabled() {
		return nil
	}
	if err := validateListen(c.Listen); err != nil {
		return &pipeline.FieldError{Field: "listen", Err: err}
	}
	return nil
}

func validateListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port such as 127.0.0.1:9464, or off")
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || strconv.FormatUint(p, 10) != port {
		return errors.New("want a port number between 0 and 65535")
	}
	return nil
}

// LogConfig configures the process's logs.
type LogConfig struct {
	// Level is the least severe level logged: debug, info, warn or error.
	Level slog.Level `yaml:"level"`
	// Format is text or json.
	Format LogFormat `yaml:"format"`
}

// LogFormat is the encoding of log lines.
type LogFormat string

// Log formats.
const (
	LogFormatText LogFormat = "text"
	LogFormatJSON LogFormat = "json"
)

// UnmarshalText implements encoding.TextUnmarshaler, accepting only the
// defined formats.
func (f *LogFormat) UnmarshalText(text []byte) error {
	switch v := LogFormat(text); v {
	case LogFormatText, LogFormatJSON:
		*f = v
		return nil
	}
	return fmt.Errorf("want %s or %s, got %q", LogFormatText, LogFormatJSON, text)
}

// DefaultLogConfig logs at info level as text.
func DefaultLogConfig() LogConfig { return LogConfig{Level: slog.LevelInfo, Format: LogFormatText} }

// Validate checks the format.
func (c *LogConfig) Validate() error {
	switch c.Format {
	case LogFormatText, LogFormatJSON:
		return nil
	}
	return pipeline.FieldErrorf("format", "must be %s or %s, got %q", LogFormatText, LogFormatJSON, c.Format)
}
