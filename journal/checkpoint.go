package journal

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/pipeline"
)

// checkpointFile holds the journal's signed checkpoints, one JSON line
// each, beside the segments.
const checkpointFile = "checkpoints.jsonl"

// checkpointContext is prepended to a checkpoint's unsigned line before
// signing, so a checkpoint signature can never pass for another kind.
const checkpointContext = "sluice journal checkpoint\n"

// Checkpoint is a signed statement that the journal's record Seq had chain
// hash HeadHash at Time. The engine writes one periodically and at
// shutdown when it has a signing key; Verify then checks the journal
// against the newest one, which catches what the chain alone cannot:
// records cut from the end of the journal.
type Checkpoint struct {
	Time     time.Time `json:"time"`
	Seq      uint64    `json:"seq"`
	HeadHash string    `json:"head_hash"`
	Host     string    `json:"host,omitempty"`
	// KeyID, PublicKey and Signature (all but Signature are covered by
	// it) are empty for an unsigned checkpoint.
	KeyID     string `json:"key_id,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// WriteCheckpoint appends a checkpoint of the current head, signed with
// key, to checkpoints.jsonl and fsyncs it. An empty journal has nothing to
// checkpoint and returns a zero Checkpoint.
func (j *Journal) WriteCheckpoint(ctx context.Context, key ed25519.PrivateKey) (Checkpoint, error) {
	if j.isClosed() {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", pipeline.ErrJournalClosed)
	}
	if j.opts.ReadOnly {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", ErrReadOnly)
	}
	st, err := j.Stats(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	if st.Last == 0 {
		return Checkpoint{}, nil
	}
	host, _ := os.Hostname()
	c := Checkpoint{Time: j.clock.Now().UTC(), Seq: st.Last, HeadHash: hex.EncodeToString(st.HeadHash[:]), Host: host}
	if key != nil {
		if c, err = signCheckpoint(c, key); err != nil {
			return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
		}
	}
	line, err := json.Marshal(c)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	f, err := safefile.OpenFile(filepath.Join(j.dir, checkpointFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, fileMode)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	return c, nil
}

func signCheckpoint(c Checkpoint, key ed25519.PrivateKey) (Checkpoint, error) {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return c, errors.New("signing key is not ed25519")
	}
	c.KeyID, c.PublicKey, c.Signature = KeyID(pub), base64.StdEncoding.EncodeToString(pub), ""
	body, err := json.Marshal(c)
	if err != nil {
		return c, err
	}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, append([]byte(checkpointContext), body...)))
	return c, nil
}

// CheckSignature verifies c's signature with its own public key, or with
// pub when given (which must then match). It returns ErrCorrupt for a
// missing or bad signature.
func (c Checkpoint) CheckSignature(pub ed25519.PublicKey) error {
	if c.Signature == "" {
		return fmt.Errorf("%w: checkpoint of seq %d is not signed", ErrCorrupt, c.Seq)
	}
	own, err := base64.StdEncoding.DecodeString(c.PublicKey)
	if err != nil || len(own) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: checkpoint of seq %d has a malformed public key", ErrCorrupt, c.Seq)
	}
	if pub != nil && !bytes.Equal(pub, own) {
		return fmt.Errorf("%w: checkpoint of seq %d is signed by key %s, not %s", ErrCorrupt, c.Seq, c.KeyID, KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil {
		return fmt.Errorf("%w: checkpoint of seq %d has a malformed signature", ErrCorrupt, c.Seq)
	}
	unsigned := c
	unsigned.Signature = ""
	body, err := json.Marshal(unsigned)
	if err != nil {
		return err
	}
	if !ed25519.Verify(own, append([]byte(checkpointContext), body...), sig) {
		return fmt.Errorf("%w: checkpoint of seq %d: signature does not verify", ErrCorrupt, c.Seq)
	}
	return nil
}

// Checkpoints returns the checkpoints written so far, oldest first; none
// when the file does not exist. A line that does not parse is ErrCorrupt.
func (j *Journal) Checkpoints() ([]Checkpoint, error) {
	f, err := os.Open(filepath.Join(j.dir, checkpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only: nothing to flush
	var out []Checkpoint
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var c Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return out, fmt.Errorf("%w: %s line %d: %w", ErrCorrupt, checkpointFile, n, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read checkpoints: %w", err)
	}
	return out, nil
}

// VerifyCheckpoint checks the journal against c: record c.Seq must still
// exist (unless retention removed it) with chain hash c.HeadHash. A
// journal whose head is older than c.Seq lost records from its end.
func (j *Journal) VerifyCheckpoint(ctx context.Context, c Checkpoint) error {
	st, err := j.Stats(ctx)
	if err != nil {
		return err
	}
	if c.Seq > st.Last {
		return &CorruptionError{Seq: st.Last + 1, Reason: fmt.Sprintf("records %d to %d are missing from the end of the journal (checkpoint of %s)", st.Last+1, c.Seq, c.Time.Format(time.RFC3339))}
	}
	if c.Seq < st.First {
		return nil // retention removed it; the chain from the floor is checked by Verify
	}
	recs, err := j.Read(ctx, c.Seq, pipeline.ReadLimit{MaxRecords: 1})
	if err != nil {
		return err
	}
	if len(recs) == 0 || recs[0].Seq != c.Seq {
		return &CorruptionError{Seq: c.Seq, Reason: "checkpointed record is missing"}
	}
	if got := hex.EncodeToString(recs[0].Hash[:]); got != c.HeadHash {
		return &CorruptionError{Seq: c.Seq, Reason: fmt.Sprintf("chain hash %s differs from the checkpoint's %s (checkpoint of %s)", got, c.HeadHash, c.Time.Format(time.RFC3339))}
	}
	return nil
}
