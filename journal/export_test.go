package journal_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

func export(t *testing.T, j *journal.Journal, opts journal.ExportOptions) ([]byte, journal.ExportManifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := j.Export(ctxT(t), &buf, opts)
	require.NoError(t, err)
	return buf.Bytes(), m
}

func verifyExport(t *testing.T, b []byte, opts journal.VerifyExportOptions) (journal.ExportReport, error) {
	t.Helper()
	return journal.VerifyExport(ctxT(t), bytes.NewReader(b), opts)
}

func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	dir, st := buildJournal(t)
	j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
	for _, workers := range []int{1, 3} {
		b, m := export(t, j, journal.ExportOptions{Host: "vm-1", Workers: workers})
		assert.Equal(t, uint64(1), m.From)
		assert.Equal(t, uint64(1000), m.To)
		assert.Equal(t, uint64(1000), m.Count)
		assert.Equal(t, strings.Repeat("0", 64), m.PrevHash)
		assert.Equal(t, hex.EncodeToString(st.HeadHash[:]), m.HeadHash)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		require.Len(t, lines, 1001)
		ev, err := pipeline.UnmarshalCloudEventJSON([]byte(lines[41]))
		require.NoError(t, err, "event lines are CloudEvents")
		assert.Equal(t, uint64(42), ev.Sequence)
		assert.NotEmpty(t, ev.Extensions["chainhash"])
		assert.NotEmpty(t, ev.Extensions["appendtime"])
		assert.True(t, journal.IsManifestLine([]byte(lines[1000])))
		rep, err := verifyExport(t, b, journal.VerifyExportOptions{Workers: workers})
		require.NoError(t, err)
		assert.Equal(t, m, rep.Manifest)
		assert.False(t, rep.Signed)
	}
}

func TestExportRange(t *testing.T) {
	t.Parallel()
	dir, _ := buildJournal(t)
	j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
	recs, err := j.Read(ctxT(t), 249, pipeline.ReadLimit{MaxRecords: 1})
	require.NoError(t, err)
	b, m := export(t, j, journal.ExportOptions{From: 250, To: 750})
	assert.Equal(t, uint64(250), m.From)
	assert.Equal(t, uint64(750), m.To)
	assert.Equal(t, uint64(501), m.Count)
	assert.Equal(t, hex.EncodeToString(recs[0].Hash[:]), m.PrevHash, "the range chains from record 249")
	_, err = verifyExport(t, b, journal.VerifyExportOptions{})
	require.NoError(t, err)

	b, m = export(t, j, journal.ExportOptions{From: 2000, To: 3000})
	assert.Zero(t, m.Count)
	_, err = verifyExport(t, b, journal.VerifyExportOptions{})
	require.NoError(t, err, "an empty export verifies")
}

func TestExportAfterRetention(t *testing.T) {
	t.Parallel()
	j, _ := timedJournal(t, journal.Options{SegmentMaxBytes: 32 << 10, RetentionMaxBytes: 192 << 10}, 200)
	st := stats(t, j)
	require.Greater(t, st.First, uint64(1))
	require.GreaterOrEqual(t, len(st.Segments), 2)
	b, m := export(t, j, journal.ExportOptions{})
	assert.Equal(t, st.First, m.From, "the export starts at the oldest retained record")
	assert.Equal(t, st.Last, m.To)
	assert.Equal(t, hex.EncodeToString(st.HeadHash[:]), m.HeadHash)
	_, err := verifyExport(t, b, journal.VerifyExportOptions{})
	require.NoError(t, err)
}

func TestExportSigned(t *testing.T) {
	t.Parallel()
	dir, _ := buildJournal(t)
	j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	otherPub, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	b, m := export(t, j, journal.ExportOptions{From: 1, To: 100, Signer: key})
	require.NotNil(t, m.Signature)
	assert.Equal(t, journal.KeyID(pub), m.Signature.KeyID)

	rep, err := verifyExport(t, b, journal.VerifyExportOptions{PublicKey: pub})
	require.NoError(t, err)
	assert.True(t, rep.Signed)
	assert.True(t, rep.Trusted)
	rep, err = verifyExport(t, b, journal.VerifyExportOptions{})
	require.NoError(t, err)
	assert.True(t, rep.Signed)
	assert.False(t, rep.Trusted)
	_, err = verifyExport(t, b, journal.VerifyExportOptions{PublicKey: otherPub})
	require.ErrorIs(t, err, journal.ErrExportInvalid)
	assert.Contains(t, err.Error(), "not by the given public key")

	unsigned, _ := export(t, j, journal.ExportOptions{From: 1, To: 100})
	_, err = verifyExport(t, unsigned, journal.VerifyExportOptions{PublicKey: pub})
	require.ErrorContains(t, err, "not signed")

	// A manifest re-signed by another key (a client signing a streamed
	// export) verifies with that key.
	lines := bytes.SplitAfter(unsigned, []byte("\n"))
	resigned, err := journal.ResignManifest(lines[len(lines)-2], key)
	require.NoError(t, err)
	lines[len(lines)-2] = resigned
	_, err = verifyExport(t, bytes.Join(lines, nil), journal.VerifyExportOptions{PublicKey: pub})
	require.NoError(t, err)

	forged := bytes.Replace(b, []byte(`"count":100`), []byte(`"count":99`), 1)
	_, err = verifyExport(t, forged, journal.VerifyExportOptions{PublicKey: pub})
	require.ErrorIs(t, err, journal.ErrExportInvalid)
}

func TestVerifyExportDetectsTampering(t *testing.T) {
	t.Parallel()
	dir, _ := buildJournal(t)
	j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
	orig, _ := export(t, j, journal.ExportOptions{From: 1, To: 300})
	split := func() [][]byte { return bytes.SplitAfter(bytes.Clone(orig), []byte("\n")) } // last element is empty
	join := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	cases := []struct {
		name   string
		tamper func() []byte
		reason string
	}{
		{"changed attribute", func() []byte {
			ls := split()
			ls[99] = bytes.Replace(ls[99], []byte(`"type":"`), []byte(`"type":"x`), 1)
			return join(ls)
		}, "line 100: seq 100: attributes differ"},
		{"added attribute", func() []byte {
			ls := split()
			ls[99] = bytes.Replace(ls[99], []byte(`{`), []byte(`{"aaa":"1",`), 1)
			return join(ls)
		}, "line 100: seq 100: attributes differ"},
		{"changed payload", func() []byte {
			ls := split()
			i := bytes.Index(ls[150], []byte(`"sluicerecord":"`)) + 20
			ls[150][i] ^= 0x01
			return join(ls)
		}, "line 151"},
		{"deleted line", func() []byte {
			ls := split()
			return join(append(ls[:200:200], ls[201:]...))
		}, "line 201: seq 202: sequence gap"},
		{"swapped lines", func() []byte {
			ls := split()
			ls[10], ls[11] = ls[11], ls[10]
			return join(ls)
		}, "line 11: seq 12"},
		{"last line deleted", func() []byte {
			ls := split()
			return join(append(ls[:299:299], ls[300:]...))
		}, "manifest count 300, but the export has 299 lines"},
		{"first line deleted", func() []byte {
			ls := split()
			return join(ls[1:])
		}, "manifest count 300"},
		{"truncated", func() []byte { return orig[:len(orig)/2] }, ""},
		{"manifest removed", func() []byte {
			ls := split()
			return join(ls[:300])
		}, "no manifest line"},
		{"manifest head changed", func() []byte {
			return bytes.Replace(orig, []byte(`"head_hash":"`), []byte(`"head_hash":"0`), 1)
		}, "head_hash"},
		{"manifest prev changed", func() []byte {
			return bytes.Replace(orig, []byte(`"prev_hash":"0`), []byte(`"prev_hash":"1`), 1)
		}, "line 1: seq 1: hash chain broken"},
		{"not json", func() []byte { return append([]byte("hello\n"), orig...) }, "line 1: not a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := verifyExport(t, c.tamper(), journal.VerifyExportOptions{Workers: 2})
			require.ErrorIs(t, err, journal.ErrExportInvalid)
			var ee *journal.ExportError
			require.ErrorAs(t, err, &ee)
			assert.Contains(t, err.Error(), c.reason)
		})
	}
}

func TestExportStopsAtDamage(t *testing.T) {
	t.Parallel()
	dir, st := buildJournal(t)
	seg := segmentFor(t, st, 321)
	rawUpdate(t, dir, seg, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("records"))
		v := append([]byte(nil), b.Get(key(321))...)
		v[len(v)-1] ^= 0x80
		resealCRC(321, v)
		return b.Put(key(321), v)
	})
	j, err := journal.Open(dir, journal.Options{ReadOnly: true})
	require.NoError(t, err)
	defer closeJ(t, j)
	_, err = j.Export(ctxT(t), &bytes.Buffer{}, journal.ExportOptions{})
	require.ErrorIs(t, err, journal.ErrCorrupt)
	var ce *journal.CorruptionError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, uint64(321), ce.Seq)
}

func TestExportCanceled(t *testing.T) {
	t.Parallel()
	dir, _ := buildJournal(t)
	j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()
	_, err := j.Export(ctx, &bytes.Buffer{}, journal.ExportOptions{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestSigningKeyFiles(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	priv, pub, err := journal.MarshalSigningKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), priv, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pub"), pub, 0o600))
	got, err := journal.ReadSigningKey(filepath.Join(dir, "key.pem"))
	require.NoError(t, err)
	assert.True(t, key.Equal(got))
	gotPub, err := journal.ReadPublicKey(filepath.Join(dir, "key.pub"))
	require.NoError(t, err)
	assert.True(t, key.Public().(ed25519.PublicKey).Equal(gotPub))
	_, err = journal.ReadSigningKey(filepath.Join(dir, "key.pub"))
	require.ErrorContains(t, err, "no PEM block")
}

// TestSigningKeyExposedRefused: as ssh does, a private key that group or
// others can read is refused, with the fix in the error.
func TestSigningKeyExposedRefused(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	priv, _, err := journal.MarshalSigningKey(key)
	require.NoError(t, err)
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o620} {
		path := filepath.Join(t.TempDir(), "key.pem")
		require.NoError(t, os.WriteFile(path, priv, 0o600))
		require.NoError(t, os.Chmod(path, mode))
		_, err := journal.ReadSigningKey(path)
		require.ErrorIs(t, err, journal.ErrKeyExposed, "mode %04o", mode)
		require.ErrorContains(t, err, "chmod 600 "+path)
	}
}

func FuzzVerifyExport(f *testing.F) {
	j, err := journal.Open(f.TempDir(), journal.Options{})
	require.NoError(f, err)
	_, err = j.Append(context.Background(), pipeline.AppendBatch{Events: journaltest.Events(0, 3)})
	require.NoError(f, err)
	var buf bytes.Buffer
	_, err = j.Export(context.Background(), &buf, journal.ExportOptions{})
	require.NoError(f, err)
	require.NoError(f, j.Close(context.Background()))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"manifest":"sluice-export/1"}` + "\n"))
	f.Add([]byte(`{"a":{"b":[1,"}",{"c":"\""}]},"sequence":"1"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = journal.VerifyExport(ctx, bytes.NewReader(b), journal.VerifyExportOptions{Workers: 2})
	})
}

// TestVerifyExportRefusesNonCanonicalManifest checks issue 13 item 4: a
// manifest that encoding/json reads as the signed one but that is not
// byte for byte its canonical encoding (a duplicate key other readers
// take first, a key in another case, white space) is refused, signed
// or not.
func TestVerifyExportRefusesNonCanonicalManifest(t *testing.T) {
	t.Parallel()
	dir, _ := buildJournal(t)
	j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	b, m := export(t, j, journal.ExportOptions{From: 1, To: 100, Signer: key})
	_, err = verifyExport(t, b, journal.VerifyExportOptions{PublicKey: pub})
	require.NoError(t, err)
	count := fmt.Sprintf(`"count":%d`, m.Count)
	tests := []struct{ name, old, new string }{
		{name: "duplicate key read first by others", old: count, new: `"count":1,` + count},
		{name: "key in another case", old: count, new: strings.Replace(count, "count", "Count", 1)},
		{name: "white space", old: count, new: strings.Replace(count, ":", ": ", 1)},
		{name: "escaped key", old: count, new: strings.Replace(count, "count", `co\u0075nt`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i := bytes.LastIndex(b, []byte(`{"manifest":`))
			forged := append(bytes.Clone(b[:i]), bytes.Replace(b[i:], []byte(tt.old), []byte(tt.new), 1)...)
			require.NotEqual(t, b, forged)
			for _, opts := range []journal.VerifyExportOptions{{PublicKey: pub}, {}} {
				_, err := verifyExport(t, forged, opts)
				require.ErrorIs(t, err, journal.ErrExportInvalid)
				assert.ErrorContains(t, err, "canonical")
			}
		})
	}
}
