package fleet

import (
	"errors"
	"regexp"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Roles (AgentConfig.Role) of a process whose journal backend is nats.
const (
	// RoleAgent keeps a bbolt journal and forwards it to the stream.
	RoleAgent = "agent"
	// RoleRouter has no journal of its own: its sinks consume the stream
	// (journal/natsjournal, Router).
	RoleRouter = "router"
)

// Orderings (RouterConfig.Ordering).
const (
	OrderingShared = "shared"
	OrderingPinned = "pinned"
)

// RouterConfig is the `journal.nats.router:` section of a router
// (journal.nats.role: router): how its sinks consume the fleet stream.
type RouterConfig struct {
	// Sources names the agents' sources (their configured names, which
	// every record carries as its origin) that this router's routes may
	// name in from: a router has no sources of its own, so these stand
	// for them in the config check.
	Sources []string `yaml:"sources"`
	// FilterSubject selects the agents consumed; default every agent
	// (<stream.subject_prefix>.>).
	FilterSubject string `yaml:"filter_subject"`
	// ConsumerPrefix starts each sink's durable consumer name (the rest
	// is the sink's name, '.' written '~'); every router of the fleet
	// with the same prefix shares a sink's consumer.
	ConsumerPrefix string `yaml:"consumer_prefix"`
	// AckWait is how long the server waits for a router's ack before it
	// hands a record to another: the failover time after a router is
	// killed (in progress is sent every ack_wait/2 while a record waits).
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxAckPending bounds one sink's records handed out across routers.
	MaxAckPending int `yaml:"max_ack_pending"`
	// Ordering is shared (every router takes a share; a transient failure
	// is a Nak with the retry policy's delay) or pinned (one router at a
	// time, per-agent order kept, failures retried in process; nats-server
	// 2.11+).
	Ordering string `yaml:"ordering"`
	// PinnedTTL is the pinned failover time (ordering: pinned).
	PinnedTTL time.Duration `yaml:"pinned_ttl"`
	// DeadLetterBucket is the key/value bucket of the dead letters every
	// router and `sluice journal dlq` share.
	DeadLetterBucket string `yaml:"dead_letter_bucket"`
	// StateBucket is the key/value bucket of the sinks' state.
	StateBucket string `yaml:"state_bucket"`
	// Dedupe remembers each (sink, agent, sequence) delivered, for
	// copies the stream stored twice; bucket "" turns it off.
	Dedupe DedupeConfig `yaml:"dedupe"`
}

// DefaultRouterConfig returns the router defaults.
func DefaultRouterConfig() RouterConfig {
	return RouterConfig{
		ConsumerPrefix: "sluice-sink-", AckWait: 30 * time.Second, MaxAckPending: 4096,
		Ordering: OrderingShared, PinnedTTL: 15 * time.Second,
		DeadLetterBucket: "SLUICE_DLQ", StateBucket: "SLUICE_SINK_STATE", Dedupe: DefaultDedupeConfig(),
	}
}

var consumerPrefixPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Validate implements pipeline.Config.
func (c *RouterConfig) Validate() error {
	errs := []error{pipeline.PrefixFieldErrors("dedupe", c.Dedupe.Validate())}
	bad := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	if !consumerPrefixPattern.MatchString(c.ConsumerPrefix) {
		bad("consumer_prefix", "must be letters, digits, _ or -, got %q", c.ConsumerPrefix)
	}
	if c.AckWait < time.Second {
		bad("ack_wait", "must be at least 1s, got %s", c.AckWait)
	}
	if c.MaxAckPending < 1 {
		bad("max_ack_pending", "must be at least 1, got %d", c.MaxAckPending)
	}
	switch c.Ordering {
	case OrderingShared:
	case OrderingPinned:
		if c.PinnedTTL < 3*time.Second {
			bad("pinned_ttl", "must be at least 3s, got %s", c.PinnedTTL)
		}
	default:
		bad("ordering", "must be %s or %s, got %q", OrderingShared, OrderingPinned, c.Ordering)
	}
	for field, b := range map[string]string{"dead_letter_bucket": c.DeadLetterBucket, "state_bucket": c.StateBucket} {
		if !streamNamePattern.MatchString(b) {
			bad(field, "must be letters, digits, _ or -, got %q", b)
		}
	}
	return errors.Join(errs...)
}
