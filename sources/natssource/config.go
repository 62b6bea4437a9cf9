package natssource

import (
	"errors"
	"time"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
)

// Config configures the nats source (a router's intake from the fleet
// stream).
type Config struct {
	// Conn reaches the servers; conn.url is required.
	Conn fleet.ConnConfig `yaml:"conn"`
	// Stream is the fleet stream, as the agents name it.
	Stream fleet.StreamConfig `yaml:"stream"`
	// Consumer is the durable consumer's name. Every router naming the
	// same consumer shares it: the server splits the records among them.
	Consumer string `yaml:"consumer"`
	// FilterSubject selects the agents consumed; default every agent
	// (<stream.subject_prefix>.>). One consumer per filter partitions the
	// fleet (doc.go, Order).
	FilterSubject string `yaml:"filter_subject"`
	// Batch is the most records appended to the journal in one commit.
	Batch int `yaml:"batch"`
	// Linger is how long a batch waits to fill once its first record
	// came.
	Linger time.Duration `yaml:"linger"`
	// AckWait is how long the server waits for this router's ack before
	// it delivers a record again (here or to another router).
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxDeliver bounds deliveries of a record; -1 is unlimited (needs
	// nats-server 2.11 with a backoff, see doc.go).
	MaxDeliver int `yaml:"max_deliver"`
	// MaxAckPending bounds unacknowledged records across all routers of
	// the consumer; keep it above batch × 2 × routers.
	MaxAckPending int `yaml:"max_ack_pending"`
	// NakDelay is the redelivery delay asked for when the journal refused
	// a batch.
	NakDelay time.Duration `yaml:"nak_delay"`
	// Retry is the backoff while the server or the journal fails.
	Retry pipeline.RetryConfig `yaml:"retry"`
	// Ordering is shared (default: every router of the consumer takes a
	// share of the records; per-agent order holds only per router) or
	// pinned (one router at a time takes every record, in per-agent
	// journal order, and the others stand by; needs nats-server 2.11).
	// See doc.go, Order.
	Ordering string `yaml:"ordering"`
	// PinnedTTL is how long a pinned router may go without pulling before
	// the server pins another (ordering: pinned): the failover time.
	PinnedTTL time.Duration `yaml:"pinned_ttl"`
	// Dedupe is the key/value bucket, shared by the routers, in which each
	// (agent, sequence) appended is remembered for dedupe.ttl, so that an
	// agent's record stored twice in the stream (published again after
	// the stream's duplicate window) is appended once (doc.go,
	// De-duplication). dedupe.bucket: "" turns it off.
	Dedupe fleet.DedupeConfig `yaml:"dedupe"`
}

var _ pipeline.Config = (*Config)(nil)

func defaultConfig() *Config {
	retry := pipeline.DefaultRetryConfig()
	s := fleet.DefaultStreamConfig()
	return &Config{
		Conn:          fleet.DefaultConnConfig(),
		Stream:        s,
		Consumer:      "sluice-routers",
		Batch:         256,
		Linger:        2 * time.Millisecond,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
		MaxAckPending: 4096,
		NakDelay:      time.Second,
		Retry:         retry,
		Dedupe:        fleet.DefaultDedupeConfig(),
		Ordering:      OrderingShared,
		PinnedTTL:     15 * time.Second,
	}
}

// Orderings (Config.Ordering).
const (
	OrderingShared = "shared"
	OrderingPinned = "pinned"
)

// pinnedTTL returns the consumer's PinnedTTL: zero unless pinned.
func (c *Config) pinnedTTL() time.Duration {
	if c.Ordering == OrderingPinned {
		return c.PinnedTTL
	}
	return 0
}

// filter returns the consumer's subject filter.
func (c *Config) filter() string {
	if c.FilterSubject != "" {
		return c.FilterSubject
	}
	return c.Stream.Subjects()
}

// Validate implements pipeline.Config.
func (c *Config) Validate() error {
	errs := []error{
		pipeline.PrefixFieldErrors("conn", c.Conn.RequireURL()),
		pipeline.PrefixFieldErrors("conn", c.Conn.Validate()),
		pipeline.PrefixFieldErrors("stream", c.Stream.Validate()),
		pipeline.PrefixFieldErrors("retry", c.Retry.Validate()),
		pipeline.PrefixFieldErrors("dedupe", c.Dedupe.Validate()),
	}
	bad := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if err := fleet.ValidAgentID(c.Consumer); err != nil {
		bad("consumer", "must be 1 to 64 letters, digits, _ or -, got %q", c.Consumer)
	}
	if c.Batch < 1 {
		bad("batch", "must be at least 1, got %d", c.Batch)
	}
	if c.Linger < 0 {
		bad("linger", "must not be negative, got %s", c.Linger)
	}
	if c.AckWait < time.Second {
		bad("ack_wait", "must be at least 1s, got %s", c.AckWait)
	}
	if c.MaxDeliver == 0 || c.MaxDeliver < -1 {
		bad("max_deliver", "must be -1 (unlimited) or positive, got %d", c.MaxDeliver)
	}
	if c.MaxAckPending < 2*c.Batch {
		bad("max_ack_pending", "must be at least twice batch (%d), got %d", 2*c.Batch, c.MaxAckPending)
	}
	switch c.Ordering {
	case OrderingShared:
	case OrderingPinned:
		if c.PinnedTTL < 3*time.Second {
			bad("pinned_ttl", "must be at least 3s (pull requests are renewed every pinned_ttl/3, at least 1s), got %s", c.PinnedTTL)
		}
	default:
		bad("ordering", "must be %s or %s, got %q", OrderingShared, OrderingPinned, c.Ordering)
	}
	if c.NakDelay < 0 {
		bad("nak_delay", "must not be negative, got %s", c.NakDelay)
	}
	return errors.Join(errs...)
}
