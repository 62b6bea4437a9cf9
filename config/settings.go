package config

import (
	"encoding"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

var (
	_ pipeline.Config          = (*LogConfig)(nil)
	_ encoding.TextUnmarshaler = (*FullPolicy)(nil)
	_ encoding.TextUnmarshaler = (*LogFormat)(nil)
)

// JournalConfig is the journal section. The journal package owns it (its
// fields, defaults and Validate), so that the journal is configured in
// one place whatever its backend.
type JournalConfig = journal.Config

// RetentionConfig bounds the journal; zero disables a bound.
type RetentionConfig = journal.RetentionConfig

// FullPolicy is what the journal does when it is full.
type FullPolicy = journal.FullPolicy

// Full policies.
const (
	FullPolicyRefuse     = journal.FullPolicyRefuse
	FullPolicyDropOldest = journal.FullPolicyDropOldest
)

// DefaultJournalConfig returns journal.DefaultConfig.
func DefaultJournalConfig() JournalConfig { return journal.DefaultConfig() }

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
