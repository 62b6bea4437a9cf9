package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// FullPolicy says what the journal does when the size limit
// (Options.RetentionMaxBytes) is reached and the oldest segment still holds
// records a registered cursor has not consumed.
type FullPolicy string

const (
	// FullPolicyRefuse refuses new appends with a *FullError until space is
	// freed. It is the default: nothing a consumer has not seen is lost.
	FullPolicyRefuse FullPolicy = "refuse"
	// FullPolicyDropOldest removes the oldest segments anyway, counting the
	// records no consumer has read in JournalStats.Dropped, the
	// sluice.journal.dropped metric and a warning log.
	FullPolicyDropOldest FullPolicy = "drop_oldest"
)

// Defaults used by DefaultOptions and for zero fields of Options.
const (
	DefaultSegmentMaxBytes     = 64 << 20
	DefaultSegmentMaxAge       = 24 * time.Hour
	DefaultCursorFlushInterval = time.Second
	DefaultMaxBatchBytes       = 8 << 20
	DefaultRetentionInterval   = time.Minute
)

// Options configures a journal. The zero value of every field means its
// default, so Options{} is valid and equals DefaultOptions().
type Options struct {
	// SegmentMaxBytes rotates the active segment once its file reaches this
	// size. Default 64 MiB. Retention removes whole segments, so this is
	// also the granularity at which disk space is returned.
	SegmentMaxBytes int64
	// SegmentMaxAge rotates the active segment once it is this old and holds
	// at least one record. Rotation happens with the next append. Default
	// 24h.
	SegmentMaxAge time.Duration
	// RetentionMaxAge removes sealed segments whose newest record is older
	// than this. Zero (the default) keeps records regardless of age.
	// Segments holding records a registered cursor still needs are kept.
	RetentionMaxAge time.Duration
	// RetentionMaxBytes bounds the total size of the segment files. Zero
	// (the default) means no limit. When an append would exceed it, the
	// oldest sealed segments are removed; if a cursor still needs them,
	// FullPolicy decides. It must be at least twice SegmentMaxBytes so that
	// a sealed segment can exist beside the active one.
	RetentionMaxBytes int64
	// FullPolicy applies when RetentionMaxBytes is reached and the oldest
	// segment holds unconsumed records. Default FullPolicyRefuse.
	FullPolicy FullPolicy
	// RetentionInterval is how often the committer checks age-based
	// retention when idle. Default 1 minute. Retention is also checked at
	// each rotation and whenever the size limit is reached.
	RetentionInterval time.Duration
	// CursorFlushInterval bounds how long a cursor commit stays only in
	// memory when no append comes to carry it. Default 1s.
	CursorFlushInterval time.Duration
	// MaxBatchBytes caps the encoded bytes one group-commit transaction
	// gathers from concurrent appenders. A single larger batch is still
	// committed, alone. Default 8 MiB.
	MaxBatchBytes int
	// MaxOpenSegments bounds the sealed segments kept open (a file
	// descriptor and a memory map each); the least recently used idle ones
	// are closed beyond it. Default DefaultMaxOpenSegments (64).
	MaxOpenSegments int
	// ReadOnly opens the journal for inspection of a stopped engine: a
	// shared lock, no recovery writes, and Append, CommitCursor and
	// DeleteCursor return ErrReadOnly.
	ReadOnly bool

	// Logger receives rotation, retention and recovery logs. Nil discards.
	Logger *slog.Logger
	// MeterProvider and TracerProvider default to no-ops when nil.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
	// Clock defaults to the wall clock.
	Clock pipeline.Clock
}

// DefaultOptions returns the defaults: 64 MiB / 24h segments, no retention
// limits, FullPolicyRefuse, cursor flush every second, 8 MiB group commits,
// no-op telemetry and the wall clock.
func DefaultOptions() Options {
	return Options{}.withDefaults()
}

func (o Options) withDefaults() Options {
	if o.SegmentMaxBytes == 0 {
		o.SegmentMaxBytes = DefaultSegmentMaxBytes
	}
	if o.SegmentMaxAge == 0 {
		o.SegmentMaxAge = DefaultSegmentMaxAge
	}
	if o.FullPolicy == "" {
		o.FullPolicy = FullPolicyRefuse
	}
	if o.RetentionInterval == 0 {
		o.RetentionInterval = DefaultRetentionInterval
	}
	if o.CursorFlushInterval == 0 {
		o.CursorFlushInterval = DefaultCursorFlushInterval
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.MaxOpenSegments == 0 {
		o.MaxOpenSegments = DefaultMaxOpenSegments
	}
	s := pipeline.NopSettings("journal")
	if o.Logger == nil {
		o.Logger = s.Logger
	}
	if o.MeterProvider == nil {
		o.MeterProvider = s.MeterProvider
	}
	if o.TracerProvider == nil {
		o.TracerProvider = s.TracerProvider
	}
	if o.Clock == nil {
		o.Clock = s.Clock
	}
	return o
}

// minSegmentBytes keeps segments above bbolt's own overhead.
const minSegmentBytes = 32 << 10

// Validate reports every problem with o (after defaults), wrapped in
// pipeline.ErrInvalidConfig.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("journal options: "+format+": %w", append(args, pipeline.ErrInvalidConfig)...))
	}
	if o.SegmentMaxBytes < minSegmentBytes {
		bad("segment max bytes %d is below the minimum %d", o.SegmentMaxBytes, minSegmentBytes)
	}
	if o.SegmentMaxBytes > 1<<40 {
		bad("segment max bytes %d is above 1 TiB", o.SegmentMaxBytes)
	}
	if o.SegmentMaxAge < 0 {
		bad("segment max age %v is negative", o.SegmentMaxAge)
	}
	if o.RetentionMaxAge < 0 {
		bad("retention max age %v is negative", o.RetentionMaxAge)
	}
	if o.RetentionMaxBytes < 0 {
		bad("retention max bytes %d is negative", o.RetentionMaxBytes)
	}
	if o.RetentionMaxBytes > 0 && o.RetentionMaxBytes < 2*o.SegmentMaxBytes {
		bad("retention max bytes %d is below twice segment max bytes (%d)", o.RetentionMaxBytes, 2*o.SegmentMaxBytes)
	}
	if o.FullPolicy != FullPolicyRefuse && o.FullPolicy != FullPolicyDropOldest {
		bad("full policy %q is not %q or %q", o.FullPolicy, FullPolicyRefuse, FullPolicyDropOldest)
	}
	if o.RetentionInterval < 0 {
		bad("retention interval %v is negative", o.RetentionInterval)
	}
	if o.CursorFlushInterval < 0 {
		bad("cursor flush interval %v is negative", o.CursorFlushInterval)
	}
	if o.MaxBatchBytes < 0 {
		bad("max batch bytes %d is negative", o.MaxBatchBytes)
	}
	if o.MaxOpenSegments < 0 {
		bad("max open segments %d is negative", o.MaxOpenSegments)
	}
	return errors.Join(errs...)
}
