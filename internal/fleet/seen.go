package fleet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-dev/sluice/pipeline"
)

// DedupeConfig is the routers' record of which (agent, sequence) they
// took: a JetStream key/value bucket shared by every router, each key
// kept for TTL. It catches what the stream's duplicate window cannot: an
// agent that publishes a record again after the window (killed before
// its cursor flush and restarted later, or a publish whose ack was lost
// for longer) makes the stream store it twice; the second copy is found
// here and acknowledged without being appended.
type DedupeConfig struct {
	// Bucket names the key/value bucket; empty turns de-duplication off.
	Bucket string `yaml:"bucket"`
	// TTL is how long a taken (agent, sequence) is remembered: cover the
	// longest time an agent may be down with records it published but
	// did not yet mark as published (default 168h, the stream's default
	// max_age: a copy older than the stream's retention is gone anyway).
	TTL time.Duration `yaml:"ttl"`
	// Replicas of the bucket; 0 takes the stream's replicas.
	Replicas int `yaml:"replicas"`
}

// DefaultDedupeConfig returns SLUICE_FLEET_SEEN with a TTL of 168h.
func DefaultDedupeConfig() DedupeConfig {
	return DedupeConfig{Bucket: "SLUICE_FLEET_SEEN", TTL: 168 * time.Hour}
}

// Validate implements pipeline.Config.
func (c *DedupeConfig) Validate() error {
	var errs []error
	if c.Bucket != "" && !streamNamePattern.MatchString(c.Bucket) {
		errs = append(errs, pipeline.FieldErrorf("bucket", "must be letters, digits, _ or - (empty: off), got %q", c.Bucket))
	}
	if c.Bucket != "" && c.TTL < time.Second {
		errs = append(errs, pipeline.FieldErrorf("ttl", "must be at least 1s, got %s", c.TTL))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, pipeline.FieldErrorf("replicas", "must be 0 (the stream's) to 5, got %d", c.Replicas))
	}
	return errors.Join(errs...)
}

// Seen is an open DedupeConfig bucket.
type Seen struct {
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	prefix string
}

// OpenSeen creates the bucket c names, or opens it when it exists (an
// existing bucket is used as it is).
func OpenSeen(ctx context.Context, js jetstream.JetStream, c DedupeConfig, replicas int) (*Seen, error) {
	if c.Replicas > 0 {
		replicas = c.Replicas
	}
	kv, err := OpenKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: c.Bucket, Description: "Sluice routers: (agent, sequence) taken from the fleet stream",
		TTL: c.TTL, Replicas: max(replicas, 1), Storage: jetstream.FileStorage, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("dedupe bucket %s: %w", c.Bucket, err)
	}
	return &Seen{js: js, kv: kv, prefix: "$KV." + c.Bucket + "."}, nil
}

// Claim is one record a router wants to take: the agent's (Agent, Seq)
// and the stream sequence of the copy it holds.
type Claim struct {
	Agent     string
	Seq       uint64
	StreamSeq uint64
}

// appendedSuffix marks a key whose copy was appended (Seen.Appended).
const appendedSuffix = " appended"

// Claim records each claim's (agent, sequence) as taken by its stream
// copy, unless it already is, and reports which claims are duplicates: a
// different stream copy of the same (agent, sequence) took it first, or
// this copy was already appended (Appended; a redelivery after an ack
// that was lost or came after AckWait). A redelivery of the copy that
// took it but was not marked appended is not a duplicate (its first
// delivery may never have been appended). The creates are published
// asynchronously, one round trip for the batch. On error nothing is
// known; the caller hands the batch back.
func (s *Seen) Claim(ctx context.Context, claims []Claim) ([]bool, error) {
	futures, err := s.publish(claims, "", true)
	if err != nil {
		return nil, err
	}
	dup := make([]bool, len(claims))
	for i, f := range futures {
		select {
		case <-f.Ok():
			continue
		case err := <-f.Err():
			if !isWrongLastSeq(err) {
				return nil, fmt.Errorf("dedupe: %w", err)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if dup[i], err = s.taken(ctx, claims[i]); err != nil {
			return nil, err
		}
	}
	return dup, nil
}

// Appended marks the claims' copies as appended, so that a redelivery of
// one is a duplicate too. It waits for the acks; on error (the marks may
// be missing) a redelivery is appended again, which is at least once.
func (s *Seen) Appended(ctx context.Context, claims []Claim) error {
	futures, err := s.publish(claims, appendedSuffix, false)
	if err != nil {
		return err
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("dedupe: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// publish sends one value per claim, <stream seq><suffix>, asynchronously;
// create makes each a create (it fails when the key exists).
func (s *Seen) publish(claims []Claim, suffix string, create bool) ([]jetstream.PubAckFuture, error) {
	futures := make([]jetstream.PubAckFuture, len(claims))
	for i, c := range claims {
		m := nats.NewMsg(s.prefix + key(c))
		m.Data = append(strconv.AppendUint(nil, c.StreamSeq, 10), suffix...)
		if create {
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
		}
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			return nil, fmt.Errorf("dedupe: %w", err)
		}
		futures[i] = f
	}
	return futures, nil
}

// taken reads the key c lost the create race for: a duplicate unless it
// holds c's own copy, not yet appended.
func (s *Seen) taken(ctx context.Context, c Claim) (bool, error) {
	e, err := s.kv.Get(ctx, key(c))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		// Expired in between: take it now.
		_, err = s.kv.Create(ctx, key(c), strconv.AppendUint(nil, c.StreamSeq, 10))
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return false, err
		}
		e, err = s.kv.Get(ctx, key(c)) // another router took it meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("dedupe: %w", err)
	}
	return string(e.Value()) != strconv.FormatUint(c.StreamSeq, 10), nil
}

func key(c Claim) string { return c.Agent + "." + strconv.FormatUint(c.Seq, 10) }

func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
