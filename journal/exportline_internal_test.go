package journal

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

var lineTestEvents = []pipeline.Event{
	{ID: "1", Source: "/s", Type: "t"},
	{ID: "2", Source: "/s", Type: "t", Origin: "ingest", Subject: "x", DataContentType: "application/json",
		Data: []byte(`{"a": [1, 2], "b": "<&>"}`), Severity: pipeline.SeverityError, TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		Extensions: map[string]string{"aaa": "1", "bbb": "2", "region": "eu", "zzz": "z", "sluicez": "q", "chainhasx": "h"}},
	{ID: "3", Source: "/s", Type: "t", Origin: "in", Data: []byte{0, 1, 2}, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)},
	{ID: "4", Source: "/s", Type: "t", Origin: "weird\"origin"},
	{ID: "5", Source: "/s", Type: "t", Extensions: map[string]string{"chainhash": "forged", "appendtime": "x", "sequence": "9", "sluiceorigin": "o"}},
	{ID: "6", Source: "/s<", Type: "t\u2028", DataContentType: "application/cloudevents+json; charset=utf-8", Data: []byte(`{"k":"v"}`),
		Extensions: map[string]string{"bk": "é\"<", "a": "\x00"}},
	{ID: "7", Source: "/s", Type: "t", DataContentType: "application/json", Data: []byte(`not json`), Extensions: map[string]string{"data": "d"}},
	{ID: "8", Source: "/s", Type: "t", DataContentType: "text/plain", Data: []byte(`hello`), Severity: pipeline.SeverityDebug},
	{ID: "9", Source: "/s", Type: "t", DataContentType: "application/json", Data: []byte(`{"compact":true,"n":[1,2,{"x":"a b"}]}`)},
	{ID: "10", Source: "/s", Type: "t", TimeGiven: true}, // the zero instant, not "no time"
}

// TestAppendLineMatchesBaseline checks that the fixed-order renderer
// writes the same attributes with the same values as the sorted-key
// baseline renderer (only the order differs), that the line is a
// CloudEvent, and that the verifier's targeted parse reads it back.
func TestAppendLineMatchesBaseline(t *testing.T) {
	t.Parallel()
	hash := [32]byte{1, 2, 3}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for _, e := range lineTestEvents {
		payload := MarshalEvent(nil, &e)
		lr := &lineRenderer{}
		got, err := lr.appendLine(nil, 42, at, &hash, payload)
		require.NoError(t, err)
		want, err := (&baselineRenderer{}).appendLine(nil, 42, at, &hash, payload)
		require.NoError(t, err)
		var gotM, wantM map[string]any
		require.NoError(t, json.Unmarshal(got, &gotM), "event %s: %s", e.ID, got)
		require.NoError(t, json.Unmarshal(want, &wantM))
		if e.ID == "7" {
			delete(wantM, "data") // the baseline let the extension "data" sit next to data_base64
		}
		require.Equal(t, wantM, gotM, "event %s", e.ID)
		_, err = pipeline.UnmarshalCloudEventJSON(got[:len(got)-1])
		require.NoError(t, err, "event %s", e.ID)

		f, _, ok := parseLineFast(got[:len(got)-1], nil)
		require.True(t, ok, "event %s", e.ID)
		slow, _, err := parseLine(got[:len(got)-1], nil)
		require.NoError(t, err)
		require.Equal(t, slow, f)
		require.Equal(t, uint64(42), f.seq)
		require.Equal(t, at, f.appendTime)
		require.Equal(t, hash, f.hash)
		require.Equal(t, payload, f.payload)
	}
}

// TestDecodeExportEventMatchesDecodeEvent checks the export decoder
// against the journal's on the events and on damaged payloads.
func TestDecodeExportEventMatchesDecodeEvent(t *testing.T) {
	t.Parallel()
	var ee exportEvent
	for _, e := range lineTestEvents {
		payload := MarshalEvent(nil, &e)
		for cut := 0; cut <= len(payload); cut++ {
			var pe pipeline.Event
			err1 := decodeEvent(payload[:cut], &pe)
			err2 := decodeExportEvent(payload[:cut], &ee)
			if err1 == nil {
				require.NoError(t, err2)
				continue
			}
			require.EqualError(t, err2, err1.Error(), "event %s cut %d", e.ID, cut)
		}
	}
	dup := []byte{eventCodecVersion, 0, 1, 'i', 1, 's', 1, 't', 0, 0, 0, 0, 0, 0, 2, 1, 'k', 1, 'a', 1, 'k', 1, 'b', 0}
	var pe pipeline.Event
	require.EqualError(t, decodeExportEvent(dup, &ee), decodeEvent(dup, &pe).Error())
}

func TestAppendLineAllocs(t *testing.T) {
	e := lineTestEvents[8] // compact JSON data: the usual case
	e.Extensions = map[string]string{"region": "eu-west-1", "host": "hv-12"}
	payload := MarshalEvent(nil, &e)
	lr := &lineRenderer{}
	buf := make([]byte, 0, 4096)
	hash := [32]byte{}
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = lr.appendLine(buf[:0], 7, 1, &hash, payload)
		_, lr.scratch, _ = parseLineFast(buf[:len(buf)-1], lr.scratch)
	})
	require.Zero(t, allocs)
}

// BenchmarkExportLine renders one probe-like record's export line with
// the fixed-order renderer and with the baseline.
func BenchmarkExportLine(b *testing.B) {
	e := pipeline.Event{
		ID: "01JD0000000000000000000000", Source: "/vm/probe", Type: "sluice.probe.state", Subject: "vm-042/disk",
		DataContentType: "application/json", Severity: pipeline.SeverityWarning, Time: time.Date(2026, 11, 23, 1, 2, 3, 4, time.UTC),
		Extensions: map[string]string{"region": "eu-west-1", "host": "hv-12"},
		Data:       []byte(`{"state":"degraded","latency_ms":42,"reason":"queue depth above threshold","probe":"disk-io"}`),
	}
	payload := MarshalEvent(nil, &e)
	hash := [32]byte{9}
	buf := make([]byte, 0, 4096)
	b.Run("fixed", func(b *testing.B) {
		b.ReportAllocs()
		lr := &lineRenderer{}
		for b.Loop() {
			buf, _ = lr.appendLine(buf[:0], 42, 1, &hash, payload)
		}
	})
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		lr := &baselineRenderer{}
		for b.Loop() {
			buf, _ = lr.appendLine(buf[:0], 42, 1, &hash, payload)
		}
	})
	b.Run("parse=fast", func(b *testing.B) {
		b.ReportAllocs()
		buf, _ = (&lineRenderer{}).appendLine(buf[:0], 42, 1, &hash, payload)
		line := buf[:len(buf)-1]
		var scratch []byte
		for b.Loop() {
			_, scratch, _ = parseLineFast(line, scratch)
		}
	})
	b.Run("parse=walk", func(b *testing.B) {
		b.ReportAllocs()
		buf, _ = (&lineRenderer{}).appendLine(buf[:0], 42, 1, &hash, payload)
		line := buf[:len(buf)-1]
		var scratch []byte
		for b.Loop() {
			_, scratch, _ = parseLine(line, scratch)
		}
	})
}

// FuzzAppendJSONData checks the data embedding export uses (including its
// one-pass fast path) against encoding/json.
func FuzzAppendJSONData(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a": 1}`, `[1,-0.5e+3,"x\u00e9\n",true,false,null,{}]`, `"<&>"`, `01`, `{"a":1,}`, "\"\u2028\"", `"\ud800"`, `1.`, `-`, `[[[[]]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := pipeline.AppendJSONData([]byte("x"), b)
		// encoding/json accepts invalid UTF-8 inside strings; the export
		// sends such data as data_base64, byte for byte.
		require.Equal(t, json.Valid(b) && utf8.Valid(b), ok)
		if !ok {
			require.Equal(t, "x", string(got))
			return
		}
		var c bytes.Buffer
		require.NoError(t, json.Compact(&c, b))
		want := bytes.NewBufferString("x")
		json.HTMLEscape(want, c.Bytes())
		require.Equal(t, want.String(), string(got))
	})
}
