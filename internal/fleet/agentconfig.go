package fleet

import (
	"errors"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// AgentConfig is the `journal.nats:` section of an agent (journal backend
// nats): where its forwarder publishes the journal and how.
type AgentConfig struct {
	// Role is agent (default: a bbolt journal forwarded to the stream)
	// or router (no journal of its own: each sink consumes the stream
	// through a durable consumer shared by every router; Router).
	Role string `yaml:"role"`
	// Router configures a router's sinks' consumers (role: router).
	Router RouterConfig `yaml:"router"`
	// Conn reaches the servers.
	Conn ConnConfig `yaml:"conn"`
	// Stream is the fleet stream.
	Stream StreamConfig `yaml:"stream"`
	// Domain is the JetStream domain of the server holding the stream,
	// for an agent that reaches it through a leaf node (docs/deploy.md,
	// Leaf nodes for sites): a leaf node passes JetStream API requests on
	// to the hub only under the hub's domain ($JS.<domain>.API). Empty:
	// the JetStream of the server the agent is connected to (or its
	// cluster).
	Domain string `yaml:"domain"`
	// AgentID names this agent in subjects and message ids. Empty: one
	// is derived from the host name the first time and stored in the
	// journal; once stored it never changes (a different configured id
	// is an error).
	AgentID string `yaml:"agent_id"`
	// MaxInFlight bounds the publishes awaiting the stream's ack.
	MaxInFlight int `yaml:"max_in_flight"`
	// Batch is the most records read and published in one round.
	Batch int `yaml:"batch"`
	// AckTimeout fails a publish not acknowledged by then (it is sent
	// again, with the same id).
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// Retry is the backoff between failed rounds.
	Retry pipeline.RetryConfig `yaml:"retry"`
}

// DefaultAgentConfig returns the agent defaults: 1,024 in flight, batches
// of 256, a 10 s ack timeout and the default retry policy.
func DefaultAgentConfig() AgentConfig {
	retry := pipeline.DefaultRetryConfig()
	return AgentConfig{
		Role:        RoleAgent,
		Router:      DefaultRouterConfig(),
		Conn:        DefaultConnConfig(),
		Stream:      DefaultStreamConfig(),
		MaxInFlight: 1024,
		Batch:       256,
		AckTimeout:  10 * time.Second,
		Retry:       retry,
	}
}

// Validate implements pipeline.Config.
func (c *AgentConfig) Validate() error {
	errs := []error{
		pipeline.PrefixFieldErrors("conn", c.Conn.Validate()),
		pipeline.PrefixFieldErrors("stream", c.Stream.Validate()),
		pipeline.PrefixFieldErrors("retry", c.Retry.Validate()),
	}
	switch c.Role {
	case RoleAgent:
	case RoleRouter:
		errs = append(errs, pipeline.PrefixFieldErrors("router", c.Router.Validate()))
	default:
		errs = append(errs, pipeline.FieldErrorf("role", "must be %s or %s, got %q", RoleAgent, RoleRouter, c.Role))
	}
	if c.AgentID != "" {
		if err := ValidAgentID(c.AgentID); err != nil {
			errs = append(errs, pipeline.FieldErrorf("agent_id", "%v", err))
		}
	}
	if c.Domain != "" && !subjectToken.MatchString(c.Domain) {
		errs = append(errs, pipeline.FieldErrorf("domain", "must be a JetStream domain name (letters, digits, - and _), got %q", c.Domain))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, pipeline.FieldErrorf("max_in_flight", "must be at least 1, got %d", c.MaxInFlight))
	}
	if c.Batch < 1 || c.Batch > c.MaxInFlight {
		errs = append(errs, pipeline.FieldErrorf("batch", "must be 1 to max_in_flight (%d), got %d", c.MaxInFlight, c.Batch))
	}
	if c.AckTimeout <= 0 {
		errs = append(errs, pipeline.FieldErrorf("ack_timeout", "must be positive, got %s", c.AckTimeout))
	} else if c.AckTimeout >= c.Stream.DuplicateWindow {
		errs = append(errs, pipeline.FieldErrorf("ack_timeout", "must be shorter than stream.duplicate_window (%s), so that a retry is de-duplicated, got %s", c.Stream.DuplicateWindow, c.AckTimeout))
	}
	return errors.Join(errs...)
}
