package kvpsink_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// cleaned is s as the encoder writes it: one U+FFFD per invalid byte, and
// for key fields NUL as U+FFFD too (and '|' as '_' in the type).
func cleaned(s string, keyField, noBar bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case keyField && r == 0:
			r = utf8.RuneError
		case noBar && r == '|':
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FuzzEncodeRoundTrip encodes arbitrary reports in both modes and decodes
// them: the limits hold, and what comes back is what went in, cleaned and,
// where Encoded says so, cut to a prefix.
func FuzzEncodeRoundTrip(f *testing.F) {
	// Seeds stay small (the fuzzer minimizes slowly on long inputs); the
	// repeat counts make long names and messages out of them.
	ts := time.Unix(1700000000, 123456000).UnixNano()
	f.Add("start", "init-local/check-cache", "", "attempting to read from cache [check]", ts, false, uint32(0), uint8(0), uint16(0))
	f.Add("finish", "init-local/check-cache", "SUCCESS", "no cache found", ts, true, uint32(0), uint8(0), uint16(0))
	f.Add("diagnostic", "diagnostic message", "", "x", ts, true, uint32(0), uint8(0), uint16(1500))
	f.Add("diagnostic", "d", "", `"`, ts, false, uint32(0), uint8(0), uint16(1200))
	f.Add("diagnostic", "h\u00e9llo", "", "\U0001F600\"\\é\n", ts, false, uint32(0), uint8(0), uint16(700))
	f.Add("t", "nnnnnnnnnnnnnnnnnnnn", "", "\U0001F600\"", int64(0), true, uint32(2000), uint8(100), uint16(3000))
	f.Add("a|b\x00", "\xff\xfe", "\xc3", "\x00\x7f\u2028", int64(-1), false, uint32(1), uint8(0), uint16(0))
	f.Fuzz(func(t *testing.T, typ, name, result, msg string, ns int64, cloudInit bool, maxMsg uint32, nameRepeat uint8, msgRepeat uint16) {
		if len(name)*(1+int(nameRepeat)) > 8<<10 || len(msg)*(1+int(msgRepeat)) > 64<<10 {
			return // too long to fuzz quickly
		}
		name = strings.Repeat(name, 1+int(nameRepeat))
		msg = strings.Repeat(msg, 1+int(msgRepeat))
		mode := kvpsink.ModeHostSafe
		if cloudInit {
			mode = kvpsink.ModeCloudInit
		}
		enc := kvpsink.Encoder{Prefix: "CLOUD_INIT", Incarnation: 1700000000, Mode: mode, MaxMessage: int(maxMsg % (80 << 10))}
		r := kvpsink.Report{Type: typ, Name: name, Time: time.Unix(0, ns), Result: result, Msg: msg}
		var id [16]byte
		id[3] = 7
		pool, info := enc.Append(nil, &r, id)
		require.Len(t, pool, info.Records*kvpsink.RecordSize)
		require.Less(t, info.Records, 10000)
		checkLimits(t, pool, mode)
		msgs := decodePool(t, pool)
		require.Len(t, msgs, 1)
		m := msgs[0]
		if info.Records > 1 {
			assert.Equal(t, info.Records, m.Slices)
		}
		assert.Equal(t, "00000007-0000-0000-0000-000000000000", m.UUID)
		assert.Equal(t, int64(1700000000), m.Incarnation)
		assert.Equal(t, kvpsink.FormatTimestamp(r.Time), m.TS)
		check := func(field, want, got string) {
			if slices.Contains(info.Truncated, field) {
				if len(got) >= len(want) {
					t.Errorf("%s: cut to %d bytes from %d", field, len(got), len(want))
				}
				want = want[:min(len(got), len(want))]
			}
			sameString(t, field, want, got)
		}
		check("type", cleaned(typ, true, true), m.Type)
		check("name", cleaned(name, true, false), m.Name)
		check("result", cleaned(result, false, false), m.Result)
		check("msg", cleaned(msg, false, false), m.Msg)
		assert.Equal(t, m.Result != "", m.HasResult)
	})
}

// FuzzDecodeRoundTrip decodes arbitrary pool bytes (never panicking) and
// re-encodes every event record it parses in cloud-init mode: decoding that
// gives the same event back.
func FuzzDecodeRoundTrip(f *testing.F) {
	for _, name := range []string{"sample.kvp_pool_1", "encode_host-safe.golden", "encode_cloud-init.golden", "deliver.golden"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		// Single records, trailing NULs cut (the fuzzer is slow on long
		// inputs; the fuzz function pads it back).
		for i := 0; i+kvpsink.RecordSize <= len(b); i += kvpsink.RecordSize {
			f.Add(trimRecord(b[i : i+kvpsink.RecordSize]))
		}
	}
	f.Add(rawRecord("PROVISIONING_REPORT", "result=success"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Short inputs are padded to a record, so that the fuzzer can work
		// on the bytes that matter.
		if len(b) < kvpsink.RecordSize {
			b = append(b, make([]byte, kvpsink.RecordSize-len(b))...)
		}
		recs, _ := kvpsink.DecodeRecords(b)
		var entries []kvpsink.Entry
		for _, r := range recs {
			e, err := kvpsink.ParseRecord(r)
			if err != nil {
				continue
			}
			entries = append(entries, e)
		}
		msgs, _ := kvpsink.Reassemble(entries)
		for _, m := range msgs {
			id, ok := uuidBytes(m.UUID)
			ts, err := time.Parse("2006-01-02T15:04:05.999999Z", m.TS)
			if !ok || err != nil || kvpsink.FormatTimestamp(ts) != m.TS || strings.Contains(m.Type, "|") ||
				strings.ContainsAny(m.Prefix, "|") || len(m.Prefix) > kvpsink.MaxPrefixBytes || m.Result == "" && m.HasResult {
				continue // not something the encoder writes
			}
			enc := kvpsink.Encoder{Prefix: m.Prefix, Incarnation: m.Incarnation, Mode: kvpsink.ModeCloudInit, MaxMessage: kvpsink.MaxMessageLimit}
			out, info := enc.Append(nil, &kvpsink.Report{Type: m.Type, Name: m.Name, Time: ts, Result: m.Result, Msg: m.Msg}, id)
			if len(info.Truncated) > 0 || cleaned(m.Type, true, true) != m.Type || cleaned(m.Name, true, false) != m.Name ||
				cleaned(m.Prefix, true, true) != m.Prefix {
				continue
			}
			again := decodePool(t, out)
			require.Len(t, again, 1)
			g := again[0]
			assert.Equal(t, m.Prefix, g.Prefix)
			assert.Equal(t, m.Type, g.Type)
			assert.Equal(t, m.Name, g.Name)
			assert.Equal(t, m.TS, g.TS)
			assert.Equal(t, m.Result, g.Result)
			sameString(t, "msg", m.Msg, g.Msg)
		}
	})
}

// sameString reports where got first differs from want, briefly: fuzz
// inputs can be long, and a full diff of them is slow.
func sameString(t *testing.T, field, want, got string) {
	t.Helper()
	if want == got {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-20)
	t.Errorf("%s: %d bytes, want %d; first difference at %d: got %q, want %q", field, len(got), len(want), i,
		got[lo:min(len(got), i+20)], want[lo:min(len(want), i+20)])
}

// trimRecord cuts the NUL padding of a record's value field.
func trimRecord(rec []byte) []byte {
	return bytes.TrimRight(rec, "\x00")
}

func uuidBytes(s string) ([16]byte, bool) {
	var id [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 || strings.ToLower(s) != s {
		return id, false
	}
	copy(id[:], b)
	return id, true
}
