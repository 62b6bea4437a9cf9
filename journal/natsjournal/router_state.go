package natsjournal

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
)

// stateBucket is the routers' sink consumer state (pipeline.Journal's
// ConsumerState), shared like the consumers: one key per (sink, key),
// <hex sink>.<hex key>. It is written before the acks of the commit it
// comes with, not in one transaction: a router killed in between leaves
// the state ahead of the acks, and the records are delivered again.
type stateBucket struct{ kv jetstream.KeyValue }

func openState(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*stateBucket, error) {
	kv, err := fleet.OpenKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "Sluice routers: sink state, shared",
		Replicas: max(replicas, 1), Storage: jetstream.FileStorage, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("state bucket %s: %w", bucket, err)
	}
	return &stateBucket{kv: kv}, nil
}

func stateKey(consumer, key string) string {
	return hex.EncodeToString([]byte(consumer)) + "." + hex.EncodeToString([]byte(key))
}

func (s *stateBucket) apply(ctx context.Context, consumer string, updates []pipeline.StateUpdate) error {
	for _, u := range updates {
		var err error
		if u.Delete {
			err = s.kv.Delete(ctx, stateKey(consumer, u.Key))
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				err = nil
			}
		} else {
			_, err = s.kv.Put(ctx, stateKey(consumer, u.Key), u.Value)
		}
		if err != nil {
			return fmt.Errorf("sink state %s: %w", consumer, err)
		}
	}
	return nil
}

func (s *stateBucket) keys(ctx context.Context, consumer string) ([]string, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, hex.EncodeToString([]byte(consumer))+".*")
	if err != nil {
		return nil, fmt.Errorf("sink state %s: %w", consumer, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}

func (s *stateBucket) get(ctx context.Context, consumer string) (map[string][]byte, error) {
	keys, err := s.keys(ctx, consumer)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make(map[string][]byte, len(keys))
	for _, k := range keys {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, unavailable(err)
		}
		_, hk, _ := strings.Cut(k, ".")
		name, err := hex.DecodeString(hk)
		if err != nil {
			continue
		}
		out[string(name)] = e.Value()
	}
	return out, nil
}

func (s *stateBucket) delete(ctx context.Context, consumer string) error {
	keys, err := s.keys(ctx, consumer)
	if err != nil {
		return unavailable(err)
	}
	for _, k := range keys {
		if err := s.kv.Delete(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return unavailable(err)
		}
	}
	return nil
}
