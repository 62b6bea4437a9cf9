package kvpsink_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// parseUUID turns 8-4-4-4-12 hex into the encoder's id.
func parseUUID(t testing.TB, s string) [16]byte {
	t.Helper()
	var id [16]byte
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	require.NoError(t, err, "uuid %q", s)
	require.Len(t, b, 16, "uuid %q", s)
	copy(id[:], b)
	return id
}

// parseTS parses a cloud-init 22.4 "ts" back into a time.
func parseTS(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse("2006-01-02T15:04:05.999999Z", s)
	require.NoError(t, err, "ts %q", s)
	return ts
}

// decodePool decodes a pool file into whole events with the Go decoder,
// requiring every record to be a well-formed event record.
func decodePool(t testing.TB, b []byte) []kvpsink.Message {
	t.Helper()
	recs, err := kvpsink.DecodeRecords(b)
	require.NoError(t, err)
	entries := make([]kvpsink.Entry, len(recs))
	for i, r := range recs {
		entries[i], err = kvpsink.ParseRecord(r)
		require.NoError(t, err, "record %d", i)
	}
	msgs, err := kvpsink.Reassemble(entries)
	require.NoError(t, err)
	return msgs
}

// TestCloudInitSample re-encodes the events of a pool file written by
// cloud-init 22.4's own encoder (testdata/sample.kvp_pool_1, from
// ../shared/reference/samples) and requires the same bytes: the Go
// decoder reads cloud-init's records, and in cloud-init mode the encoder
// writes them byte for byte, slices cut inside escapes included.
func TestCloudInitSample(t *testing.T) {
	t.Parallel()
	sample, err := os.ReadFile(filepath.Join("testdata", "sample.kvp_pool_1"))
	require.NoError(t, err)

	// The Go decoder agrees with cloud-init's reader output.
	recs, err := kvpsink.DecodeRecords(sample)
	require.NoError(t, err)
	lines, err := os.ReadFile(filepath.Join("testdata", "sample.kvp_pool_1.jsonl"))
	require.NoError(t, err)
	var want []kvpsink.Record
	for _, line := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		var r struct{ Key, Value string }
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		want = append(want, kvpsink.Record{Key: r.Key, Value: r.Value})
	}
	require.Equal(t, want, recs)

	msgs := decodePool(t, sample)
	require.Len(t, msgs, 4)
	assert.Equal(t, "attempting to read from cache [check]", msgs[0].Msg)
	assert.Equal(t, "SUCCESS", msgs[1].Result)
	assert.Equal(t, 3, msgs[2].Slices)
	assert.Equal(t, strings.Repeat("x", 1500)+` "quoted" `+strings.Repeat("y", 900), msgs[2].Msg)
	assert.Equal(t, strings.Repeat(`"`, 1200), msgs[3].Msg)

	var out []byte
	for _, m := range msgs {
		enc := kvpsink.Encoder{Prefix: m.Prefix, Incarnation: m.Incarnation, Mode: kvpsink.ModeCloudInit}
		out, _ = enc.Append(out, &kvpsink.Report{
			Type: m.Type, Name: m.Name, Time: parseTS(t, m.TS), Result: m.Result, Msg: m.Msg,
		}, parseUUID(t, m.UUID))
	}
	require.Len(t, out, len(sample))
	for i := 0; i < len(sample); i += kvpsink.RecordSize {
		require.Equal(t, string(sample[i:i+kvpsink.RecordSize]), string(out[i:i+kvpsink.RecordSize]), "record %d", i/kvpsink.RecordSize)
	}
}

// goldenReports exercise every path of the encoder: result or none,
// slicing, escapes and surrogate pairs at slice boundaries, caps.
func goldenReports() []kvpsink.Report {
	ts := time.Unix(1700000000, 123456000)
	return []kvpsink.Report{
		{Type: "start", Name: "init-local/check-cache", Time: ts, Msg: "attempting to read from cache [check]"},
		{Type: "finish", Name: "init-local/check-cache", Time: ts.Add(time.Second), Result: "SUCCESS", Msg: "no cache found"},
		{Type: "sluice.probe.state", Name: "web/http://127.0.0.1:8080/healthz", Time: time.Unix(1700000002, 0), Result: "FAIL",
			Msg: `{"state":"down","code":503}`},
		{Type: "diagnostic", Name: "h\u00e9llo \u2603", Time: ts, Msg: "caf\u00e9 \U0001F600 \"quoted\"\n\ttab\x00nul\x7f"},
		// Sliced: plain, then quotes straddling cuts, then astral pairs.
		{Type: "diagnostic", Name: "diagnostic message", Time: ts, Msg: strings.Repeat("x", 1500) + ` "quoted" ` + strings.Repeat("y", 900)},
		{Type: "diagnostic", Name: "d", Time: ts, Msg: strings.Repeat(`"`, 1200)},
		{Type: "diagnostic", Name: "emoji", Time: ts, Msg: strings.Repeat("\U0001F600", 200)},
		// Between 1022 and 1024 bytes: sliced in host-safe mode only.
		{Type: "x", Name: "n", Time: time.Unix(1700000000, 0), Msg: strings.Repeat("m", 1023-len(`{"name":"n","type":"x","ts":"2023-11-14T22:13:20Z","msg":""}`))},
		// A name far too long, in a type with a bar: capped.
		{Type: "a|b", Name: strings.Repeat("\u00e9", 600), Time: ts, Result: strings.Repeat("R", 100), Msg: "capped"},
	}
}

func TestEncoderGolden(t *testing.T) {
	t.Parallel()
	for _, mode := range []kvpsink.Mode{kvpsink.ModeHostSafe, kvpsink.ModeCloudInit} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			enc := kvpsink.Encoder{Prefix: "CLOUD_INIT", Incarnation: 1700000000 - 42, Mode: mode}
			var out []byte
			var infos []string
			for i, r := range goldenReports() {
				var id [16]byte
				id[15] = byte(i)
				var info kvpsink.Encoded
				out, info = enc.Append(out, &r, id)
				infos = append(infos, fmt.Sprintf("%d records, truncated %v", info.Records, info.Truncated))
			}
			golden := filepath.Join("testdata", "encode_"+string(mode)+".golden")
			if *kvpsink.UpdateGolden {
				require.NoError(t, os.WriteFile(golden, out, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, want, out, "records differ from %s (run with -update after checking)", golden)

			checkLimits(t, out, mode)
			msgs := decodePool(t, out)
			require.Len(t, msgs, len(goldenReports()), "%v", infos)
			for i, r := range goldenReports() {
				m := msgs[i]
				if i == len(goldenReports())-1 {
					assert.Equal(t, "a_b", m.Type)
					assert.Less(t, len(m.Name), 256)
					assert.True(t, strings.HasPrefix(strings.Repeat("\u00e9", 600), m.Name))
					assert.Equal(t, strings.Repeat("R", 64), m.Result)
					_, truncated, _ := strings.Cut(infos[i], "truncated ")
					assert.Equal(t, "[name result]", truncated)
					continue
				}
				assert.Equal(t, r.Type, m.Type, "report %d", i)
				assert.Equal(t, r.Name, m.Name, "report %d", i)
				assert.Equal(t, strings.ToValidUTF8(r.Msg, "\ufffd"), m.Msg, "report %d", i)
				assert.Equal(t, r.Result, m.Result, "report %d", i)
				assert.Equal(t, kvpsink.FormatTimestamp(r.Time), m.TS, "report %d", i)
			}
		})
	}
}

// checkLimits checks what the mode promises for every record.
func checkLimits(t testing.TB, pool []byte, mode kvpsink.Mode) {
	t.Helper()
	recs, err := kvpsink.DecodeRecords(pool)
	require.NoError(t, err)
	for i, r := range recs {
		e, err := kvpsink.ParseRecord(r)
		require.NoError(t, err, "record %d", i)
		if e.Slice >= 0 {
			assert.LessOrEqual(t, len(r.Value), 1016, "record %d: slice value", i)
		}
		if mode == kvpsink.ModeCloudInit {
			assert.LessOrEqual(t, len(r.Value), 1024, "record %d: value", i)
			continue
		}
		assert.LessOrEqual(t, len(r.Key), kvpsink.HostMaxKey, "record %d: key %q", i, r.Key)
		assert.LessOrEqual(t, len(r.Value), kvpsink.HostMaxValue, "record %d: value", i)
		assert.True(t, json.Valid([]byte(r.Value)), "record %d: host-safe slices are valid JSON on their own: %s", i, r.Value)
	}
}

// TestWorstCase encodes the largest metadata with the largest message:
// slicing ends, every slice has room for message text and stays within
// the limits, and the slice index never outgrows the key room kept for it.
func TestWorstCase(t *testing.T) {
	t.Parallel()
	for _, mode := range []kvpsink.Mode{kvpsink.ModeHostSafe, kvpsink.ModeCloudInit} {
		enc := kvpsink.Encoder{Prefix: strings.Repeat("P", kvpsink.MaxPrefixBytes), Incarnation: -1 << 63, Mode: mode,
			MaxMessage: kvpsink.MaxMessageLimit}
		r := kvpsink.Report{
			Type: strings.Repeat("\x01", 200), Name: strings.Repeat("\U0001F600\x01", 1000),
			Result: strings.Repeat("\x01", 200), Msg: strings.Repeat("\x01\U0001F600", 1<<20),
			Time: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		}
		var id [16]byte
		pool, info := enc.Append(nil, &r, id)
		assert.Equal(t, []string{"type", "name", "result", "msg"}, info.Truncated)
		assert.Greater(t, info.Records, 1000, "%s: a 1 MiB message makes many slices", mode)
		assert.Less(t, info.Records, 10000, "%s: slice indexes fit the 5 bytes kept in the key", mode)
		checkLimits(t, pool, mode)
		msgs := decodePool(t, pool)
		require.Len(t, msgs, 1)
		assert.LessOrEqual(t, len(msgs[0].Msg), kvpsink.MaxMessageLimit)
	}
}
