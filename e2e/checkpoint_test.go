package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestSignedCheckpointCatchesCutTail runs the engine with a signing key:
// it signs the journal's head periodically and at shutdown, and verify
// then catches what the hash chain alone cannot, records cut from the
// end of the journal.
func TestSignedCheckpointCatchesCutTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "signing.pem")
	_, errOut, code := sluice(t, nil, "journal", "keygen", "-o", key)
	require.Zero(t, code, errOut)
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := crashConfig(t, dir, ingest, admin)
	e := startEngine(t, cfg, "SLUICE_SIGNING_KEY="+key, "SLUICE_CHECKPOINT_INTERVAL=50ms")
	e.waitReady(admin, 30*time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 10 {
		require.Equal(t, http.StatusAccepted, postEvent(client, "http://"+ingest+"/events", fmt.Sprintf("cp-%d", i)))
	}
	require.NoError(t, e.stop(30*time.Second))

	jdir := filepath.Join(dir, "journal")
	out, errOut, code := sluice(t, nil, "journal", "verify", "--dir", jdir)
	require.Zero(t, code, errOut)
	require.Contains(t, out, `"checkpoint": {`)
	require.Contains(t, out, `"seq": 10`)

	// Cut the last two records, as an attacker hiding recent events would.
	db, err := bolt.Open(filepath.Join(jdir, "00000000000000000001.seg"), 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("records"))
		return errors.Join(b.Delete(seqKey(10)), b.Delete(seqKey(9)))
	}))
	require.NoError(t, db.Close())
	_, errOut, code = sluice(t, nil, "journal", "verify", "--dir", jdir)
	require.Equal(t, 5, code, errOut)
	require.Contains(t, errOut, "missing from the end of the journal")
}
