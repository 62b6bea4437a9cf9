package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// keyRecorder is an HTTP peer that records, per event id, the
// Idempotency-Key header and the idempotencykey attribute of each request.
type keyRecorder struct {
	mu   sync.Mutex
	seen []keyed
}

type keyed struct{ id, header, attr string }

func (k *keyRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		ID  string `json:"id"`
		Key string `json:"idempotencykey"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	k.mu.Lock()
	k.seen = append(k.seen, keyed{id: ev.ID, header: r.Header.Get("Idempotency-Key"), attr: ev.Key})
	k.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (k *keyRecorder) all() []keyed {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]keyed(nil), k.seen...)
}

// hookConfig is a pipeline from the HTTP ingest to an HTTP sink.
func hookConfig(t *testing.T, dir, ingest, admin, url string) string {
	t.Helper()
	return writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal:
  dir: %[1]s/journal
admin:
  listen: %[3]s
log: {level: warn}
shutdown_timeout: 10s
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", path: /events}
sinks:
  - name: hook
    type: http
    with: {url: "%[4]s"}
routes:
  - name: all
    from: [ingest]
    to: [hook]
`, dir, ingest, admin, url))
}

// TestReplayToHTTPSinkKeepsIdempotencyKeys replays to a real HTTP sink,
// while the engine runs and after it stopped, and checks that the peer
// gets the original idempotency keys, that a dry run reports what a real
// replay sends, and that the live cursor does not move.
func TestReplayToHTTPSinkKeepsIdempotencyKeys(t *testing.T) {
	t.Parallel()
	peer := &keyRecorder{}
	srv := httptest.NewServer(peer)
	defer srv.Close()
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := hookConfig(t, dir, ingest, admin, srv.URL)
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 20 {
		require.Equal(t, http.StatusAccepted, postEvent(client, "http://"+ingest+"/events", fmt.Sprintf("ev-%d", i)))
	}
	require.Eventually(t, func() bool { return len(peer.all()) == 20 }, 20*time.Second, 20*time.Millisecond)
	live := map[string]keyed{}
	for _, k := range peer.all() {
		assert.Equal(t, `"`+k.attr+`"`, k.header, "the header is the key as an sf-string")
		live[k.id] = k
	}

	// Dry run through the running engine.
	out, errOut, code := sluice(t, nil, "journal", "replay", "-c", cfg, "--sink", "hook", "--from", "5", "--to", "14", "--dry-run")
	require.Zero(t, code, errOut)
	var dry struct {
		Selected  uint64               `json:"selected"`
		Delivered uint64               `json:"delivered"`
		ByType    map[string]uint64    `json:"by_type"`
		First     struct{ Seq uint64 } `json:"first"`
		Last      struct{ Seq uint64 } `json:"last"`
		Sample    []json.RawMessage    `json:"sample"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &dry), out)
	assert.Equal(t, uint64(10), dry.Selected)
	assert.Zero(t, dry.Delivered)
	assert.Equal(t, map[string]uint64{"e2e.test": 10}, dry.ByType)
	assert.Equal(t, uint64(5), dry.First.Seq)
	assert.Equal(t, uint64(14), dry.Last.Seq)
	assert.Len(t, dry.Sample, 5)
	assert.Len(t, peer.all(), 20, "a dry run sends nothing")

	// A real replay of the same range, through the running engine.
	out, errOut, code = sluice(t, nil, "journal", "replay", "-c", cfg, "--sink", "hook", "--from", "5", "--to", "14")
	require.Zero(t, code, "%s\n%s", out, errOut)
	got := peer.all()[20:]
	require.Len(t, got, int(dry.Selected), "the dry run said what the replay sends")
	for i, k := range got {
		assert.Equal(t, fmt.Sprintf("ev-%d", i+4), k.id)
		assert.Equal(t, live[k.id].header, k.header, "same Idempotency-Key as the live delivery")
		assert.Equal(t, live[k.id].attr, k.attr)
	}

	// Replay by time once the engine is stopped, selecting with CEL.
	require.NoError(t, e.stop(30*time.Second))
	before := peer.all()
	out, errOut, code = sluice(t, nil, "journal", "replay", "-c", cfg, "--sink", "hook",
		"--from", "2000-01-01T00:00:00Z", "--match", `event.id == "ev-3" || event.id == "ev-17"`, "--rate", "100")
	require.Zero(t, code, "%s\n%s", out, errOut)
	got = peer.all()[len(before):]
	require.Len(t, got, 2)
	for _, k := range got {
		assert.Equal(t, live[k.id].header, k.header)
	}
	out, errOut, code = sluice(t, nil, "journal", "stats", "-c", cfg)
	require.Zero(t, code, errOut)
	var st struct{ Cursors map[string]uint64 }
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, uint64(21), st.Cursors["hook"], "replays never move the live cursor")

	// Usage errors.
	_, errOut, code = sluice(t, nil, "journal", "replay", "-c", cfg, "--sink", "nope")
	assert.Equal(t, 2, code, errOut)
	_, errOut, code = sluice(t, nil, "journal", "replay", "-c", cfg, "--sink", "hook", "--match", "event.id ==")
	assert.Equal(t, 2, code, errOut)
}

// buildAuditJournal writes n events over several small segments with
// the journal package, as an engine would have.
func buildAuditJournal(t *testing.T, dir string, n int) pipeline.JournalStats {
	t.Helper()
	j, err := journal.Open(dir, journal.Options{SegmentMaxBytes: 32 << 10})
	require.NoError(t, err)
	for i := 0; i < n; i += 10 {
		evs := make([]pipeline.Event, 10)
		for k := range evs {
			evs[k] = pipeline.Event{ID: fmt.Sprintf("ev-%d", i+k), Source: "/e2e", Type: "e2e.audit", Origin: "ingest",
				DataContentType: "application/json", Data: []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i+k, strings.Repeat("x", 150)))}
		}
		_, err := j.Append(context.Background(), pipeline.AppendBatch{Events: evs})
		require.NoError(t, err)
	}
	st, err := j.Stats(context.Background())
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(st.Segments), 4)
	require.NoError(t, j.Close(context.Background()))
	return st
}

func TestExportAndVerifyExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jdir := filepath.Join(dir, "journal")
	st := buildAuditJournal(t, jdir, 600)
	key := filepath.Join(dir, "key.pem")
	_, errOut, code := sluice(t, nil, "journal", "keygen", "-o", key)
	require.Zero(t, code, errOut)

	exp := filepath.Join(dir, "export.jsonl")
	_, errOut, code = sluice(t, nil, "journal", "export", "--dir", jdir, "-o", exp, "--signing-key", key)
	require.Zero(t, code, errOut)
	lines := readLines(t, exp)
	require.Len(t, lines, 601)
	var m journal.ExportManifest
	require.NoError(t, json.Unmarshal([]byte(lines[600]), &m))
	assert.Equal(t, uint64(600), m.Count)
	assert.NotNil(t, m.Signature)

	out, errOut, code := sluice(t, nil, "journal", "verify", "--export", exp, "--public-key", key+".pub")
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"trusted": true`)

	// A range by sequence, to stdout.
	out, errOut, code = sluice(t, nil, "journal", "export", "--dir", jdir, "--from", "100", "--to", "199")
	require.Zero(t, code, errOut)
	part := filepath.Join(dir, "part.jsonl")
	require.NoError(t, os.WriteFile(part, []byte(out), 0o600))
	out, errOut, code = sluice(t, nil, "journal", "verify", "--export", part)
	assert.Equal(t, 5, code, "an unsigned export is UNTRUSTED: %s", errOut)
	assert.Contains(t, out, `"status": "UNTRUSTED"`)
	_, errOut, code = sluice(t, nil, "journal", "verify", "--export", part, "--allow-untrusted")
	require.Zero(t, code, errOut)
	_, errOut, code = sluice(t, nil, "journal", "verify", "--export", part, "--public-key", key+".pub")
	assert.Equal(t, 5, code, "an unsigned export fails when a key is required")
	assert.Contains(t, errOut, "not signed")

	// Tampered exports: an edited line, a deleted line.
	edited := append([]string(nil), lines...)
	edited[41] = strings.Replace(edited[41], `"e2e.audit"`, `"e2e.audix"`, 1)
	writeFile(t, dir, "edited.jsonl", strings.Join(edited, "\n")+"\n")
	_, errOut, code = sluice(t, nil, "journal", "verify", "--export", filepath.Join(dir, "edited.jsonl"))
	assert.Equal(t, 5, code)
	assert.Contains(t, errOut, "line 42: seq 42: attributes differ")
	deleted := append(append([]string(nil), lines[:300]...), lines[301:]...)
	writeFile(t, dir, "deleted.jsonl", strings.Join(deleted, "\n")+"\n")
	_, errOut, code = sluice(t, nil, "journal", "verify", "--export", filepath.Join(dir, "deleted.jsonl"))
	assert.Equal(t, 5, code)
	assert.Contains(t, errOut, "line 301: seq 302: sequence gap")
	_ = st
}

// TestTamperedJournalThroughCLI damages a journal in each way and checks
// that verify names the damage, the engine refuses a damaged tail, and
// repair keeps a copy and truncates to the last good record.
func TestTamperedJournalThroughCLI(t *testing.T) {
	t.Parallel()
	flip := func(seq uint64) func(t *testing.T, jdir string, st pipeline.JournalStats) {
		return func(t *testing.T, jdir string, st pipeline.JournalStats) {
			boltUpdate(t, jdir, segmentOf(st, seq), func(b *bolt.Bucket) error {
				v := append([]byte(nil), b.Get(seqKey(seq))...)
				v[len(v)-2] ^= 0x01
				return b.Put(seqKey(seq), v)
			})
		}
	}
	cases := []struct {
		name     string
		tamper   func(t *testing.T, jdir string, st pipeline.JournalStats)
		verify   string // in verify's error
		lastGood func(st pipeline.JournalStats) uint64
		tail     bool
	}{
		{name: "flipped byte", tamper: flip(123), verify: "seq 123: crc mismatch", lastGood: func(pipeline.JournalStats) uint64 { return 122 }},
		{name: "deleted record", tamper: func(t *testing.T, jdir string, st pipeline.JournalStats) {
			boltUpdate(t, jdir, segmentOf(st, 222), func(b *bolt.Bucket) error { return b.Delete(seqKey(222)) })
		}, verify: "seq 222: record missing", lastGood: func(pipeline.JournalStats) uint64 { return 221 }},
		{name: "truncated segment", tamper: func(t *testing.T, jdir string, st pipeline.JournalStats) {
			p := filepath.Join(jdir, st.Segments[1].Name)
			fi, err := os.Stat(p)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(p, fi.Size()/2))
		}, verify: "truncated", lastGood: func(st pipeline.JournalStats) uint64 { return st.Segments[1].First - 1 }},
		{name: "removed segment", tamper: func(t *testing.T, jdir string, st pipeline.JournalStats) {
			require.NoError(t, os.Remove(filepath.Join(jdir, st.Segments[2].Name)))
		}, verify: "segment deleted?", lastGood: func(st pipeline.JournalStats) uint64 { return st.Segments[2].First - 1 }},
		{name: "damaged tail", tamper: func(t *testing.T, jdir string, st pipeline.JournalStats) { flip(st.Last-1)(t, jdir, st) },
			verify: "crc mismatch", lastGood: func(st pipeline.JournalStats) uint64 { return st.Last - 2 }, tail: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			jdir := filepath.Join(dir, "journal")
			st := buildAuditJournal(t, jdir, 600)
			c.tamper(t, jdir, st)
			cfg := crashConfig(t, dir, freeAddr(t), freeAddr(t))

			_, errOut, code := sluice(t, nil, "journal", "verify", "--dir", jdir)
			assert.Equal(t, 5, code, errOut)
			assert.Contains(t, errOut, c.verify)
			if c.tail {
				_, errOut, code = sluice(t, nil, "run", "-c", cfg)
				assert.Equal(t, 5, code, "the engine refuses a damaged tail")
				assert.Contains(t, errOut, "sluice journal repair")
			}
			out, errOut, code := sluice(t, nil, "journal", "repair", "--dir", jdir)
			assert.Equal(t, 5, code, "without --yes repair only shows the plan: %s", errOut)
			assert.Contains(t, out, `"status": "damaged"`)
			out, errOut, code = sluice(t, nil, "journal", "repair", "--dir", jdir, "--yes")
			require.Zero(t, code, errOut)
			var rep struct {
				LastGood uint64   `json:"last_good"`
				Backup   string   `json:"backup"`
				Copied   []string `json:"copied"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &rep))
			assert.Equal(t, c.lastGood(st), rep.LastGood)
			for _, name := range rep.Copied {
				assert.FileExists(t, filepath.Join(rep.Backup, name))
			}
			out, errOut, code = sluice(t, nil, "journal", "verify", "--dir", jdir)
			require.Zero(t, code, errOut)
			assert.Contains(t, out, fmt.Sprintf(`"last": %d`, c.lastGood(st)))
		})
	}
}

func boltUpdate(t *testing.T, jdir, segment string, fn func(b *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(jdir, segment), 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("records"))) }))
	require.NoError(t, db.Close())
}

func segmentOf(st pipeline.JournalStats, seq uint64) string {
	for _, s := range st.Segments {
		if s.First <= seq && seq <= s.Last {
			return s.Name
		}
	}
	return ""
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	for i := range 8 {
		k[7-i] = byte(seq >> (8 * i))
	}
	return k
}
