package fleet_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/pipeline"
)

// Every stream setting reaches the stream EnsureStream creates; a stream
// that exists is used as it is, each difference logged, and one whose
// subjects do not cover the prefix is refused.
func TestEnsureStreamSettings(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	js := srv.JetStream(t)
	c := fleet.DefaultStreamConfig()
	c.Name, c.SubjectPrefix = "FLEET_X", "sites.x"
	c.Retention, c.Discard, c.Storage = "interest", "old", "memory"
	c.MaxAge, c.MaxBytes, c.DuplicateWindow = time.Hour, pipeline.ByteSize(64<<20), 30*time.Second
	require.NoError(t, c.Validate())
	s, err := fleet.EnsureStream(t.Context(), js, c, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	got := s.CachedInfo().Config
	assert.Equal(t, []string{"sites.x.>"}, got.Subjects)
	assert.Equal(t, jetstream.InterestPolicy, got.Retention)
	assert.Equal(t, jetstream.DiscardOld, got.Discard)
	assert.Equal(t, jetstream.MemoryStorage, got.Storage)
	assert.Equal(t, time.Hour, got.MaxAge)
	assert.Equal(t, int64(64<<20), got.MaxBytes)
	assert.Equal(t, 30*time.Second, got.Duplicates)
	assert.Equal(t, 1, got.Replicas)

	logs := &lockedBuffer{}
	other := c
	other.Discard, other.MaxAge, other.DuplicateWindow = "new", 2*time.Hour, time.Minute
	_, err = fleet.EnsureStream(t.Context(), js, other, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err, "an existing stream is used as it is")
	for _, setting := range []string{"setting=discard", "setting=max_age", "setting=duplicate_window"} {
		assert.Contains(t, logs.String(), setting)
	}
	info, err := s.Info(t.Context())
	require.NoError(t, err)
	assert.Equal(t, time.Hour, info.Config.MaxAge, "never changed")

	elsewhere := c
	elsewhere.SubjectPrefix = "other"
	_, err = fleet.EnsureStream(t.Context(), js, elsewhere, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, fleet.ErrNoStream)

	missing := fleet.DefaultStreamConfig()
	missing.Name, missing.Create = "NOPE", false
	_, err = fleet.EnsureStream(t.Context(), js, missing, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, fleet.ErrNoStream)
}

func TestStreamConfigValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, want string
		edit       func(*fleet.StreamConfig)
	}{
		{"name", "name", func(c *fleet.StreamConfig) { c.Name = "a.b" }},
		{"wildcard prefix", "subject_prefix", func(c *fleet.StreamConfig) { c.SubjectPrefix = "a.*" }},
		{"replicas", "replicas", func(c *fleet.StreamConfig) { c.Replicas = 0 }},
		{"retention", "retention", func(c *fleet.StreamConfig) { c.Retention = "forever" }},
		{"discard", "discard", func(c *fleet.StreamConfig) { c.Discard = "some" }},
		{"storage", "storage", func(c *fleet.StreamConfig) { c.Storage = "tape" }},
		{"max_age", "max_age", func(c *fleet.StreamConfig) { c.MaxAge = -time.Second }},
		{"short window", "duplicate_window", func(c *fleet.StreamConfig) { c.DuplicateWindow = time.Millisecond }},
		{"window over max_age", "duplicate_window", func(c *fleet.StreamConfig) { c.MaxAge, c.DuplicateWindow = time.Minute, time.Hour }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := fleet.DefaultStreamConfig()
			c.edit(&cfg)
			require.ErrorContains(t, cfg.Validate(), c.want)
		})
	}
}
