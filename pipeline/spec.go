package pipeline

import "time"

// Spec is a validated pipeline description, built by the config package
// (or by hand in tests) and turned into a running Pipeline by New.
type Spec struct {
	Sources []SourceSpec
	Sinks   []SinkSpec
	Routes  []RouteSpec
	// ShutdownTimeout bounds how long stopping may take; zero means 30s.
	ShutdownTimeout time.Duration
	// OrphanCursorTTL is how long a journal cursor whose consumer is no
	// longer a configured sink (a sink renamed or removed) may pin
	// retention before Run deletes it (config journal.orphan_cursor_ttl);
	// zero means DefaultOrphanCursorTTL, negative never deletes. See
	// orphans.go for the rules and ToolConsumerPrefix for the consumers
	// that are never orphans.
	OrphanCursorTTL time.Duration
	// KeepCursors names further journal consumers that are not sinks and
	// must never be treated as orphans.
	KeepCursors []string
}

// SourceSpec is one configured source.
type SourceSpec struct {
	Name   string
	Type   string
	Config Config
}

// SinkSpec is one configured sink.
type SinkSpec struct {
	Name   string
	Type   string
	Config Config
	Retry  RetryConfig
	Batch  BatchConfig
	// Throttle, when set, limits deliveries per key for every route to
	// this sink that has no throttle of its own.
	Throttle *ThrottleSpec
	// StartAt decides where the sink begins when it has no cursor yet
	// (a new sink); the zero value is the oldest retained record.
	StartAt StartAt
	// Fingerprint, when set (the config loader sets it), identifies
	// Throttle as written: Reload compares compiled parts by it, since
	// compiled programs cannot be compared by value. Empty: compared by
	// value (which may count equal throttles as changed).
	Fingerprint string
}

// BatchConfig bounds the batches handed to a sink's Deliver.
type BatchConfig struct {
	// MaxEvents is the most deliveries per batch.
	MaxEvents int `yaml:"max_events"`
	// MaxBytes is the approximate most encoded bytes per batch.
	MaxBytes ByteSize `yaml:"max_bytes"`
}

// DefaultBatchConfig returns 256 events or 1 MiB per batch.
func DefaultBatchConfig() BatchConfig { return BatchConfig{MaxEvents: 256, MaxBytes: 1 << 20} }

// Validate implements Config.
func (c *BatchConfig) Validate() error {
	if c.MaxEvents < 1 {
		return FieldErrorf("max_events", "must be at least 1, got %d", c.MaxEvents)
	}
	if c.MaxBytes < 1 {
		return FieldErrorf("max_bytes", "must be positive, got %s", c.MaxBytes)
	}
	return nil
}

// RouteSpec sends the events of its sources to its sinks.
type RouteSpec struct {
	Name string
	// From names the sources whose events the route considers (matched on
	// Event.Origin).
	From []string
	// To names the sinks the route delivers to.
	To []string
	// Match selects events; nil selects every event of From.
	Match EventMatcher
	// Transform rewrites selected events before delivery; nil keeps them.
	Transform EventTransformer
	// Throttle, when set, limits this route's deliveries per key, for
	// each of its sinks separately.
	Throttle *ThrottleSpec
	// OnError is what an event whose Match cannot be evaluated becomes:
	// OnErrorNoMatch (the default, also "") or OnErrorDeadLetter.
	OnError string
	// Fingerprint, when set (the config loader sets it), identifies the
	// route as written (match, transform, throttle), To excepted: Reload
	// compares routes by it, since compiled programs cannot be compared by value.
	// Empty: compared by value (which may count equal routes as changed).
	Fingerprint string
}

// EventMatcher decides whether a route selects an event. Implementations
// are compiled once at load and must be safe for concurrent use.
type EventMatcher interface {
	// Match reports whether e is selected. An error (an expression that
	// cannot be evaluated on this event: a missing key, a type error)
	// counts as no match, counted per route in sluice.route.match_errors;
	// under RouteSpec.OnError dead_letter it dead-letters the event for
	// the route's sinks with reason "match failed".
	Match(e *Event) (bool, error)
}

// EventTransformer rewrites an event on its way to a route's sinks.
// Implementations are compiled once at load and must be safe for
// concurrent use.
type EventTransformer interface {
	// Transform returns the event to deliver. It must not modify e's
	// Data or Extensions in place (copy them). An error dead-letters the
	// event with reason "transform failed".
	Transform(e Event) (Event, error)
}
