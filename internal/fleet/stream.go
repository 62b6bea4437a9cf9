package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

var (
	retentions = map[string]jetstream.RetentionPolicy{
		"limits": jetstream.LimitsPolicy, "workqueue": jetstream.WorkQueuePolicy, "interest": jetstream.InterestPolicy,
	}
	discards = map[string]jetstream.DiscardPolicy{"new": jetstream.DiscardNew, "old": jetstream.DiscardOld}
	storages = map[string]jetstream.StorageType{"file": jetstream.FileStorage, "memory": jetstream.MemoryStorage}
)

// JetStream returns c as the server's stream configuration.
func (c *StreamConfig) JetStream() jetstream.StreamConfig {
	maxBytes := int64(c.MaxBytes)
	if maxBytes == 0 {
		maxBytes = -1
	}
	return jetstream.StreamConfig{
		Name:        c.Name,
		Description: "Sluice fleet: agents' journals, one subject per agent",
		Subjects:    []string{c.Subjects()},
		Retention:   retentions[c.Retention],
		MaxAge:      c.MaxAge,
		MaxBytes:    maxBytes,
		MaxMsgs:     -1,
		Discard:     discards[c.Discard],
		Storage:     storages[c.Storage],
		Replicas:    c.Replicas,
		Duplicates:  c.DuplicateWindow,
	}
}

// ErrNoStream is returned by EnsureStream when the stream does not exist
// and StreamConfig.Create is off.
var ErrNoStream = errors.New("fleet stream does not exist")

// EnsureStream returns the stream c names, creating it when it is missing
// and c.Create is set. An existing stream is never changed: settings that
// differ from c are logged at WARN (the operator owns the stream), except
// subjects that do not cover c's, which is an error since nothing
// published would be stored.
func EnsureStream(ctx context.Context, js jetstream.JetStream, c StreamConfig, log *slog.Logger) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, c.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if !c.Create {
			return nil, fmt.Errorf("stream %s: %w (create is off)", c.Name, ErrNoStream)
		}
		s, err = js.CreateStream(ctx, c.JetStream())
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = js.Stream(ctx, c.Name) // another agent or router made it first
		}
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", c.Name, err)
	}
	have := s.CachedInfo().Config
	if !slices.ContainsFunc(have.Subjects, func(p string) bool { return covers(p, c.Subjects()) }) {
		return nil, fmt.Errorf("stream %s: %w: it holds subjects %v, not %s", c.Name, ErrNoStream, have.Subjects, c.Subjects())
	}
	want := c.JetStream()
	for _, d := range []struct {
		name       string
		have, want any
	}{
		{"replicas", have.Replicas, want.Replicas},
		{"retention", have.Retention, want.Retention},
		{"discard", have.Discard, want.Discard},
		{"storage", have.Storage, want.Storage},
		{"max_age", have.MaxAge, want.MaxAge},
		{"max_bytes", have.MaxBytes, want.MaxBytes},
		{"duplicate_window", have.Duplicates, want.Duplicates},
	} {
		if d.have != d.want {
			log.Warn("the fleet stream exists with a different setting; it is used as it is",
				slog.String("stream", c.Name), slog.String("setting", d.name),
				slog.Any("stream_value", d.have), slog.Any("configured", d.want))
		}
	}
	return s, nil
}

// covers reports whether the subject pattern p (with * and > wildcards)
// matches every subject of the pattern q.
func covers(p, q string) bool {
	pt, qt := strings.Split(p, "."), strings.Split(q, ".")
	for i, tok := range pt {
		switch {
		case tok == ">":
			return i < len(qt)
		case i >= len(qt):
			return false
		case tok == "*" && qt[i] != ">":
		case tok != qt[i]:
			return false
		}
	}
	return len(pt) == len(qt)
}

// OpenKV creates the key/value bucket c describes, or opens it as it is
// when it exists (created by another agent or router first).
func OpenKV(ctx context.Context, js jetstream.JetStream, c jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.CreateKeyValue(ctx, c)
	if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		kv, err = js.KeyValue(ctx, c.Bucket)
	}
	return kv, err
}
