package journal_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := journal.DefaultConfig()
	ok.Dir = "/j"
	require.NoError(t, ok.Validate())
	tests := []struct {
		name  string
		edit  func(c *journal.Config)
		field string
	}{
		{"backend", func(c *journal.Config) { c.Backend = "mongo" }, "backend"},
		{"nats without url", func(c *journal.Config) { c.Backend = journal.BackendNATS }, "nats.conn.url"},
		{"nats batch", func(c *journal.Config) { c.NATS.Batch = 0 }, "nats.batch"},
		{"dir", func(c *journal.Config) { c.Dir = "" }, "dir"},
		{"segment too small", func(c *journal.Config) { c.SegmentMaxBytes = 1024 }, "segment_max_bytes"},
		{"retention below two segments", func(c *journal.Config) { c.Retention.MaxBytes = c.SegmentMaxBytes }, "retention.max_bytes"},
		{"full policy", func(c *journal.Config) { c.FullPolicy = "drop" }, "full_policy"},
		{"orphan ttl", func(c *journal.Config) { c.OrphanCursorTTL = 0 }, "orphan_cursor_ttl"},
		{"max open segments", func(c *journal.Config) { c.MaxOpenSegments = 0 }, "max_open_segments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tt.edit(&c)
			var fe *pipeline.FieldError
			require.ErrorAs(t, c.Validate(), &fe)
			assert.Equal(t, tt.field, fe.Field)
		})
	}
}

func TestConfigOptions(t *testing.T) {
	t.Parallel()
	c := journal.DefaultConfig()
	c.Retention.MaxAge, c.FullPolicy, c.CursorFlushInterval = time.Hour, journal.FullPolicyDropOldest, 3*time.Second
	o := c.Options(pipeline.Settings{}, true)
	assert.Equal(t, int64(journal.DefaultSegmentMaxBytes), o.SegmentMaxBytes)
	assert.Equal(t, time.Hour, o.RetentionMaxAge)
	assert.Equal(t, int64(journal.DefaultRetentionMaxBytes), o.RetentionMaxBytes)
	assert.Equal(t, journal.FullPolicyDropOldest, o.FullPolicy)
	assert.Equal(t, 3*time.Second, o.CursorFlushInterval)
	assert.Equal(t, journal.DefaultMaxOpenSegments, o.MaxOpenSegments)
	assert.True(t, o.ReadOnly)
	require.NoError(t, o.Validate())
}

func TestBackends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := journal.DefaultBackends()
	assert.Equal(t, []string{"bbolt"}, b.Names())
	c := journal.DefaultConfig()
	c.Dir = filepath.Join(t.TempDir(), "j")

	_, err := b.Open(ctx, c, journal.Existing, pipeline.Settings{})
	require.ErrorIs(t, err, journal.ErrNotFound, "Existing never creates")
	_, err = b.Open(ctx, c, journal.ReadOnly, pipeline.Settings{})
	require.ErrorIs(t, err, journal.ErrNotFound)
	assert.NoDirExists(t, c.Dir)

	s, err := b.Open(ctx, c, journal.ReadWrite, pipeline.Settings{})
	require.NoError(t, err)
	_, err = s.Append(ctx, pipeline.AppendBatch{Events: payload256(1)})
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))
	assert.True(t, journal.Exists(c.Dir))

	s, err = b.Open(ctx, c, journal.ReadOnly, pipeline.Settings{})
	require.NoError(t, err)
	_, err = s.Append(ctx, pipeline.AppendBatch{Events: payload256(1)})
	require.ErrorIs(t, err, journal.ErrReadOnly)
	rep, err := s.Verify(ctx, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), rep.Records)
	require.NoError(t, s.Close(ctx))

	c.Backend = "nats"
	_, err = b.Open(ctx, c, journal.ReadWrite, pipeline.Settings{})
	require.ErrorIs(t, err, pipeline.ErrUnknownType)

	_, err = journal.NewBackends(journal.BBolt{}, journal.BBolt{})
	require.ErrorIs(t, err, pipeline.ErrDuplicateType)
}

func TestBackendCheckFree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := journal.DefaultBackends()
	c := journal.DefaultConfig()
	c.Dir = filepath.Join(t.TempDir(), "j")
	require.NoError(t, b.CheckFree(ctx, c), "a journal not created yet is free")
	assert.NoDirExists(t, c.Dir, "CheckFree creates nothing")
	s, err := b.Open(ctx, c, journal.ReadWrite, pipeline.Settings{})
	require.NoError(t, err)
	require.ErrorIs(t, b.CheckFree(ctx, c), journal.ErrInUse)
	require.NoError(t, s.Close(ctx))
	require.NoError(t, b.CheckFree(ctx, c))
	s, err = b.Open(ctx, c, journal.ReadWrite, pipeline.Settings{})
	require.NoError(t, err, "CheckFree leaves no lock behind")
	require.NoError(t, s.Close(ctx))
}
