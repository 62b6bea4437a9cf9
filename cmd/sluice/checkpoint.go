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

// signCheckpoints writes a signed checkpoint of the journal's head every
// interval until ctx ends; the caller writes the last one at shutdown.
func signCheckpoints(ctx context.Context, j journal.Store, key ed25519.PrivateKey, interval time.Duration, log *slog.Logger) {
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
}

// verifyJournal runs Verify and then checks the journal against its newest
// signed checkpoint, which also catches records cut from the end.
func verifyJournal(ctx context.Context, j journal.Store, from, to uint64) (verifyView, error) {
	rep, err := j.Verify(ctx, from, to)
	if err != nil {
		return verifyView{}, err
	}
	v := newVerifyView(rep)
	cps, err := j.Checkpoints()
	if err != nil {
		return v, err
	}
	if len(cps) == 0 {
		return v, nil
	}
	c := cps[len(cps)-1]
	if err := c.CheckSignature(nil); err != nil {
		return v, err
	}
	if err := j.VerifyCheckpoint(ctx, c); err != nil {
		return v, err
	}
	v.Checkpoint = &checkpointView{Seq: c.Seq, Time: c.Time, HeadHash: c.HeadHash, KeyID: c.KeyID}
	return v, nil
}
