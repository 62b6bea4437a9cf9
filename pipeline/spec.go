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
}

// EventMatcher decides whether a route selects an event. Implementations
// are compiled once at load and must be safe for concurrent use.
type EventMatcher interface {
	// Match reports whether e is selected. An error (an expression that
	// fails on this event) dead-letters the event for the route's sinks
	// with reason "match failed"; it is never silently dropped.
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
