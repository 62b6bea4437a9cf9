package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// checkpointIntervalEnv overrides journal.checkpoint_interval, how often
// the engine signs a checkpoint of the journal's head (a duration, as in
// the config: pipeline.ParseDuration).
// Checkpoints are written only when the engine has a signing key.
const checkpointIntervalEnv = "SLUICE_CHECKPOINT_INTERVAL"

// checkpointInterval is $SLUICE_CHECKPOINT_INTERVAL, or configured.
func checkpointInterval(configured time.Duration) (time.Duration, error) {
	v := os.Getenv(checkpointIntervalEnv)
	if v == "" {
		return configured, nil
	}
	d, err := pipeline.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a positive duration such as 5m, got %q%s", checkpointIntervalEnv, v, pipeline.DurationHint(v))
	}
	return d, nil
}

// signCheckpoints writes a signed checkpoint of the journal's head at
// once (a restarted engine covers what it found) and then every interval
// until ctx ends; the caller writes the last one at shutdown.
func signCheckpoints(ctx context.Context, j journal.Store, key ed25519.PrivateKey, interval time.Duration, log *slog.Logger) {
	writeCheckpoint(ctx, j, key, log)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			writeCheckpoint(ctx, j, key, log)
		}
	}
}

func writeCheckpoint(ctx context.Context, j journal.Store, key ed25519.PrivateKey, log *slog.Logger) {
	c, err := j.WriteCheckpoint(context.WithoutCancel(ctx), key)
	if err != nil {
		log.Error("journal checkpoint failed", slog.String("error", err.Error()))
		return
	}
	if c.Seq != 0 {
		log.Info("journal checkpoint signed", slog.Uint64("seq", c.Seq), slog.String("head_hash", c.HeadHash), slog.String("key_id", c.KeyID))
	}
}

// checkpointView reports the checkpoint a verification was checked
// against.
type checkpointView struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	HeadHash string    `json:"head_hash"`
	KeyID    string    `json:"key_id"`
	// Checked is how many checkpoints were checked (all of them).
	Checked int `json:"checked"`
	// Trusted is true when every checkpoint was signed with the pinned
	// key; false when no key was pinned, so that a signature only shows
	// that the checkpoint is whole, not who made it.
	Trusted bool `json:"trusted"`
}

// verifyJournal runs Verify and then checks the journal against every
// signed checkpoint: each must be signed with the pinned key (with its
// own embedded key when none is pinned) and its record, unless retention
// removed it, must still have the checkpointed chain hash; a checkpoint
// beyond the head shows records cut from the end. With a pinned key,
// a journal holding records but no checkpoint fails: checkpoints.jsonl
// was removed or never written.
//
// progress, when set, hears how many records were checked.
func verifyJournal(ctx context.Context, j journal.Store, from, to uint64, pin trustedKey, progress func(done, total uint64)) (verifyView, error) {
	rep, err := j.VerifyRange(ctx, journal.VerifyOptions{From: from, To: to, Progress: progress})
	if err != nil {
		return verifyView{}, err
	}
	v := newVerifyView(rep)
	if v.Records > 0 {
		st, err := j.Stats(ctx)
		if err != nil {
			return v, err
		}
		v.DiskBytes = segmentBytes(st, v.First, v.Last)
	}
	cps, err := j.Checkpoints()
	if err != nil {
		return v, err
	}
	if len(cps) == 0 {
		if !pin.pinned() {
			return v, nil
		}
		st, err := j.Stats(ctx)
		if err != nil {
			return v, err
		}
		if st.Last == 0 {
			return v, nil
		}
		return v, fmt.Errorf("%w: signing is configured (%s) but the journal has no checkpoint: checkpoints.jsonl is missing or empty, so records cut from its end would go unnoticed (an engine killed before its first checkpoint_interval also leaves none)", journal.ErrCorrupt, pin.from)
	}
	for _, c := range cps {
		if err := c.CheckSignature(pin.key); err != nil {
			return v, err
		}
		if err := j.VerifyCheckpoint(ctx, c); err != nil {
			return v, err
		}
	}
	c := cps[len(cps)-1]
	v.Checkpoint = &checkpointView{Seq: c.Seq, Time: c.Time, HeadHash: c.HeadHash, KeyID: c.KeyID, Checked: len(cps), Trusted: pin.pinned()}
	return v, nil
}

// segmentBytes is the size on disk of the segments holding first..last.
func segmentBytes(st pipeline.JournalStats, first, last uint64) int64 {
	var n int64
	for _, s := range st.Segments {
		if s.First <= last && (s.Last >= first || s.Last < s.First) {
			n += s.Bytes
		}
	}
	return n
}

// engineVerify is verifyJournal inside the engine: with a signing key it
// first signs a checkpoint of the head (so a journal that grew since the
// last one is covered), and pins the key.
func engineVerify(ctx context.Context, j journal.Store, from, to uint64, signer ed25519.PrivateKey) (verifyView, error) {
	if signer == nil {
		return verifyJournal(ctx, j, from, to, trustedKey{}, nil)
	}
	if _, err := j.WriteCheckpoint(context.WithoutCancel(ctx), signer); err != nil {
		return verifyView{}, fmt.Errorf("checkpoint before verify: %w", err)
	}
	pub, _ := signer.Public().(ed25519.PublicKey)
	return verifyJournal(ctx, j, from, to, trustedKey{key: pub, from: "the engine's signing key"}, nil)
}

// checkRemoteCheckpoint checks what a running engine reported against the
// key this process pins: the engine checked with its own key, which must
// be the pinned one.
func checkRemoteCheckpoint(v verifyView, pin trustedKey) error {
	if !pin.pinned() {
		return nil
	}
	want := journal.KeyID(pin.key)
	switch {
	case v.Checkpoint == nil && v.Records > 0:
		return withExit(exitJournalDamage, fmt.Errorf("the engine reports no signed checkpoint, but signing is configured (%s, key %s)", pin.from, want))
	case v.Checkpoint != nil && (v.Checkpoint.KeyID != want || !v.Checkpoint.Trusted):
		return withExit(exitJournalDamage, fmt.Errorf("the engine's checkpoints are signed by key %s, not by %s (%s)", v.Checkpoint.KeyID, want, pin.from))
	}
	return nil
}
