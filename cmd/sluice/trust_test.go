package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// trustFixture is a stopped engine's journal of 5 records, the engine's
// key pair (keygen files) and an attacker's.
type trustFixture struct {
	dir, jdir       string
	keyFile, pub    string
	key, attacker   ed25519.PrivateKey
	attackerPubFile string
}

func newTrustFixture(t *testing.T) *trustFixture {
	t.Helper()
	dir := t.TempDir()
	f := &trustFixture{dir: dir, jdir: filepath.Join(dir, "j"), keyFile: filepath.Join(dir, "k.pem")}
	f.pub = f.keyFile + ".pub"
	code, _, errOut := sluice(t, "journal", "keygen", "-o", f.keyFile)
	require.Zero(t, code, errOut)
	var err error
	f.key, err = journal.ReadSigningKey(f.keyFile)
	require.NoError(t, err)
	attackerFile := filepath.Join(dir, "attacker.pem")
	code, _, errOut = sluice(t, "journal", "keygen", "-o", attackerFile)
	require.Zero(t, code, errOut)
	f.attacker, err = journal.ReadSigningKey(attackerFile)
	require.NoError(t, err)
	f.attackerPubFile = attackerFile + ".pub"
	j, err := journal.Open(f.jdir, journal.Options{})
	require.NoError(t, err)
	evs := make([]pipeline.Event, 5)
	for i := range evs {
		evs[i] = pipeline.Event{ID: fmt.Sprint(i), Source: "/t", Type: "t"}
	}
	_, err = j.Append(context.Background(), pipeline.AppendBatch{Events: evs})
	require.NoError(t, err)
	require.NoError(t, j.Close(context.Background()))
	return f
}

// config writes a configuration whose journal is the fixture's, signed
// with key (none when empty).
func (f *trustFixture) config(t *testing.T, key string) string {
	t.Helper()
	path := filepath.Join(f.dir, fmt.Sprintf("sluice-%d.yaml", len(key)))
	body := fmt.Sprintf("journal: {dir: %q", f.jdir)
	if key != "" {
		body += fmt.Sprintf(", signing_key: %q", key)
	}
	body += "}\nsources: [{name: hb, type: heartbeat, with: {interval: 10s}}]\nsinks: [{name: out, type: stdout}]\nroutes: [{name: all, from: [hb], to: [out]}]\n"
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// checkpoint signs a checkpoint of the journal's head with key.
func (f *trustFixture) checkpoint(t *testing.T, key ed25519.PrivateKey) {
	t.Helper()
	j, err := journal.Open(f.jdir, journal.Options{})
	require.NoError(t, err)
	_, err = j.WriteCheckpoint(context.Background(), key)
	require.NoError(t, err)
	require.NoError(t, j.Close(context.Background()))
}

// TestVerifyExportTrust checks issue 13 item 4: without a trusted key
// the verdict is UNTRUSTED and the exit status 5 (0 with
// --allow-untrusted), an export signed by an attacker's key is UNTRUSTED
// too, and the configured signing key or --public-key makes it trusted.
func TestVerifyExportTrust(t *testing.T) {
	t.Parallel()
	f := newTrustFixture(t)
	signed := filepath.Join(f.dir, "signed.jsonl")
	forged := filepath.Join(f.dir, "forged.jsonl")
	unsigned := filepath.Join(f.dir, "unsigned.jsonl")
	for file, key := range map[string]string{signed: f.keyFile, forged: filepath.Join(f.dir, "attacker.pem"), unsigned: ""} {
		args := []string{"journal", "export", "--dir", f.jdir, "-o", file}
		if key != "" {
			args = append(args, "--signing-key", key)
		}
		code, _, errOut := sluice(t, args...)
		require.Zero(t, code, errOut)
	}
	cfg := f.config(t, f.keyFile)
	tests := []struct {
		name   string
		args   []string
		code   int
		status string
		err    string
	}{
		{name: "unsigned", args: []string{"--export", unsigned}, code: exitJournalDamage, status: `"status": "UNTRUSTED"`, err: "UNTRUSTED"},
		{name: "unsigned allowed", args: []string{"--export", unsigned, "--allow-untrusted"}, status: `"status": "UNTRUSTED"`},
		{name: "attacker's key, nothing pinned", args: []string{"--export", forged}, code: exitJournalDamage, status: `"status": "UNTRUSTED"`, err: "no trusted key"},
		{name: "attacker's key, key pinned", args: []string{"--export", forged, "--public-key", f.pub}, code: exitJournalDamage, err: "not by the given public key"},
		{name: "attacker's key, config pins", args: []string{"--export", forged, "-c", cfg}, code: exitJournalDamage, err: "not by the given public key"},
		{name: "signed, nothing pinned", args: []string{"--export", signed}, code: exitJournalDamage, status: `"status": "UNTRUSTED"`},
		{name: "signed, --public-key", args: []string{"--export", signed, "--public-key", f.pub}, status: `"status": "ok"`},
		{name: "signed, configured key", args: []string{"--export", signed, "-c", cfg}, status: `"status": "ok"`},
		{name: "attacker's public key", args: []string{"--export", signed, "--public-key", f.attackerPubFile}, code: exitJournalDamage, err: "not by the given public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := sluice(t, append([]string{"journal", "verify"}, tt.args...)...)
			require.Equal(t, tt.code, code, "stdout %s\nstderr %s", out, errOut)
			assert.Contains(t, out, tt.status)
			assert.Contains(t, errOut, tt.err)
		})
	}
}

// TestVerifyPinsCheckpointKey checks issue 13 item 5: checkpoints must be
// signed with the pinned key (configured or --public-key), and with a
// pinned key a journal without checkpoints fails.
func TestVerifyPinsCheckpointKey(t *testing.T) {
	t.Parallel()
	t.Run("no checkpoint, signing configured", func(t *testing.T) {
		t.Parallel()
		f := newTrustFixture(t)
		code, out, errOut := sluice(t, "journal", "verify", "-c", f.config(t, f.keyFile))
		require.Equal(t, exitJournalDamage, code, out)
		assert.Contains(t, errOut, "no checkpoint")
		code, _, errOut = sluice(t, "journal", "verify", "--dir", f.jdir, "--public-key", f.pub)
		require.Equal(t, exitJournalDamage, code)
		assert.Contains(t, errOut, "no checkpoint")
		code, _, errOut = sluice(t, "journal", "verify", "--dir", f.jdir)
		require.Zero(t, code, "nothing pinned, no checkpoint required: %s", errOut)
	})
	t.Run("checkpoint by the attacker", func(t *testing.T) {
		t.Parallel()
		f := newTrustFixture(t)
		f.checkpoint(t, f.attacker)
		code, _, errOut := sluice(t, "journal", "verify", "-c", f.config(t, f.keyFile))
		require.Equal(t, exitJournalDamage, code)
		assert.Contains(t, errOut, "is signed by key")
		code, _, errOut = sluice(t, "journal", "verify", "--dir", f.jdir, "--public-key", f.pub)
		require.Equal(t, exitJournalDamage, code)
		assert.Contains(t, errOut, "is signed by key")
		code, out, errOut := sluice(t, "journal", "verify", "--dir", f.jdir)
		require.Zero(t, code, errOut)
		assert.Contains(t, out, `"trusted": false`, "a self-signed checkpoint proves nothing")
	})
	t.Run("older checkpoint by the attacker", func(t *testing.T) {
		t.Parallel()
		f := newTrustFixture(t)
		f.checkpoint(t, f.attacker)
		f.checkpoint(t, f.key)
		code, _, errOut := sluice(t, "journal", "verify", "--dir", f.jdir, "--public-key", f.pub)
		require.Equal(t, exitJournalDamage, code, "every checkpoint is checked, not only the newest")
		assert.Contains(t, errOut, "is signed by key")
	})
	t.Run("checkpoint by the engine", func(t *testing.T) {
		t.Parallel()
		f := newTrustFixture(t)
		f.checkpoint(t, f.key)
		for _, args := range [][]string{{"-c", f.config(t, f.keyFile)}, {"--dir", f.jdir, "--public-key", f.pub}} {
			code, out, errOut := sluice(t, append([]string{"journal", "verify"}, args...)...)
			require.Zero(t, code, errOut)
			assert.Contains(t, out, `"trusted": true`)
			assert.Contains(t, out, `"seq": 5`)
		}
	})
	t.Run("key unreadable, .pub beside it", func(t *testing.T) {
		t.Parallel()
		f := newTrustFixture(t)
		f.checkpoint(t, f.key)
		// The configuration names a private key this process cannot
		// read (here: gone): FILE.pub beside it is used.
		missing := filepath.Join(f.dir, "gone.pem")
		require.NoError(t, os.WriteFile(missing+".pub", mustRead(t, f.pub), 0o600))
		code, out, errOut := sluice(t, "journal", "verify", "-c", f.config(t, missing))
		require.Zero(t, code, errOut)
		assert.Contains(t, out, `"trusted": true`)
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestRelayExportVerifiesBeforeSigning checks issue 13 item 4: the CLI
// verifies what the engine streams before re-signing it; a tampered
// stream is refused (exit 5) and no manifest, signed or not, is written.
func TestRelayExportVerifiesBeforeSigning(t *testing.T) {
	t.Parallel()
	srv, _ := auditAdmin(t, nil)
	r := &remoteJournal{base: srv.URL, client: srv.Client()}
	var good bytes.Buffer
	require.NoError(t, r.export(context.Background(), &good, "", "", nil))
	_, clientKey, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)

	lines := strings.SplitAfter(good.String(), "\n")
	edited := append([]string(nil), lines...)
	edited[3] = strings.Replace(edited[3], `"type":"t"`, `"type":"forged"`, 1)
	require.NotEqual(t, lines[3], edited[3])
	dropped := append(append([]string(nil), lines[:4]...), lines[5:]...)
	tests := map[string]string{
		"edited line":  strings.Join(edited, ""),
		"removed line": strings.Join(dropped, ""),
		"no manifest":  strings.Join(lines[:len(lines)-2], ""),
	}
	for name, stream := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := relayExport(context.Background(), strings.NewReader(stream), &out, clientKey)
			require.Error(t, err)
			assert.NotContains(t, out.String(), `"manifest"`, "nothing unverified is signed")
			if name != "no manifest" {
				assert.Equal(t, exitJournalDamage, exitCode(err), err.Error())
			}
		})
	}
	var out bytes.Buffer
	require.NoError(t, relayExport(context.Background(), strings.NewReader(good.String()), &out, clientKey))
	_, err = journal.VerifyExport(context.Background(), &out, journal.VerifyExportOptions{PublicKey: clientKey.Public().(ed25519.PublicKey)})
	require.NoError(t, err)
}

// TestRemoteVerifyPinsEngineKey checks issue 13 item 5 through the admin
// API: the engine signs a checkpoint of its head and checks with its own
// key; the CLI compares that key with the one it pins.
func TestRemoteVerifyPinsEngineKey(t *testing.T) {
	t.Parallel()
	pub, engineKey, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	otherPub, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	srv, _ := auditAdmin(t, engineKey)
	r := &remoteJournal{base: srv.URL, client: srv.Client()}
	v, err := r.Verify(context.Background(), 0, 0, trustedKey{key: pub, from: "test"})
	require.NoError(t, err)
	require.NotNil(t, v.Checkpoint)
	assert.Equal(t, uint64(10), v.Checkpoint.Seq, "a checkpoint of the head signed before verifying")
	assert.True(t, v.Checkpoint.Trusted)
	_, err = r.Verify(context.Background(), 0, 0, trustedKey{key: otherPub, from: "test"})
	require.ErrorContains(t, err, "not by "+journal.KeyID(otherPub))
	assert.Equal(t, exitJournalDamage, exitCode(err))

	unsigned, _ := auditAdmin(t, nil)
	r = &remoteJournal{base: unsigned.URL, client: unsigned.Client()}
	_, err = r.Verify(context.Background(), 0, 0, trustedKey{key: pub, from: "test"})
	require.ErrorContains(t, err, "no signed checkpoint")
	_, err = r.Verify(context.Background(), 0, 0, trustedKey{})
	require.NoError(t, err)
}
