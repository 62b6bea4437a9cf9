package journal_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	defer j.Close(ctx)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	c, err := j.WriteCheckpoint(ctx, key)
	require.NoError(t, err)
	require.Zero(t, c.Seq, "an empty journal has nothing to checkpoint")

	for range 3 {
		_, err = j.Append(ctx, pipeline.AppendBatch{Events: []pipeline.Event{{Source: "/t", Type: "t"}, {Source: "/t", Type: "t"}}})
		require.NoError(t, err)
		_, err = j.WriteCheckpoint(ctx, key)
		require.NoError(t, err)
	}
	cps, err := j.Checkpoints()
	require.NoError(t, err)
	require.Len(t, cps, 3)
	require.Equal(t, uint64(6), cps[2].Seq)
	for _, c := range cps {
		require.NoError(t, c.CheckSignature(pub))
		require.NoError(t, j.VerifyCheckpoint(ctx, c))
	}
	info, err := os.Stat(filepath.Join(dir, "checkpoints.jsonl"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	other, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	require.ErrorIs(t, cps[0].CheckSignature(other), journal.ErrCorrupt, "signed by another key")
	forged := cps[2]
	forged.Seq = 5
	require.ErrorIs(t, forged.CheckSignature(nil), journal.ErrCorrupt, "an edited checkpoint no longer verifies")
	unsigned := cps[2]
	unsigned.Signature = ""
	require.ErrorIs(t, unsigned.CheckSignature(nil), journal.ErrCorrupt)

	// Records cut from the end are caught against a newer checkpoint.
	ahead := cps[2]
	ahead.Seq = 9
	err = j.VerifyCheckpoint(ctx, ahead)
	var ce *journal.CorruptionError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, uint64(7), ce.Seq)
	require.Contains(t, ce.Reason, "missing from the end")

	wrong := cps[1]
	wrong.HeadHash = cps[0].HeadHash
	require.ErrorIs(t, j.VerifyCheckpoint(ctx, wrong), journal.ErrCorrupt)
}
