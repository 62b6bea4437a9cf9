package filesink_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/filesink"
)

// TestLinesAreValidUTF8JSON (D8): whatever bytes an event's data and
// attributes hold (invalid UTF-8 from HTTP binary mode, under a JSON
// content type or none), every line is valid UTF-8 JSON, and data comes
// back byte for byte.
func TestLinesAreValidUTF8JSON(t *testing.T) {
	t.Parallel()
	datas := [][]byte{
		[]byte("\xff\xfe"),
		[]byte(`"` + "\xc3\x28" + `"`),
		[]byte("{\"a\":\"\xff\"}"),
		[]byte("{\"a\": \"ok\", \"s\": \"\u2028<&>\"}"),
		[]byte("not json \xff"),
	}
	var batch []pipeline.Delivery
	for i, d := range datas {
		for _, ct := range []string{"application/json", "", "text/plain", "application/octet-stream", "application/vnd+json"} {
			e := pipeline.Event{ID: "e" + string(rune('a'+i)), Source: "/s\xff", Type: "t", Subject: "sub\xc3\x28",
				DataContentType: ct, Data: d, Extensions: map[string]string{"ext": "v\xff"}, Sequence: uint64(len(batch) + 1)}
			batch = append(batch, pipeline.Delivery{Event: e})
		}
	}
	path := t.TempDir() + "/out.jsonl"
	s := startSink(t, &filesink.Config{Path: path})
	require.NoError(t, s.Deliver(t.Context(), batch))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	require.Len(t, lines, len(batch))
	for i, l := range lines {
		require.True(t, utf8.Valid(l), "line %d: %q", i, l)
		require.True(t, json.Valid(l), "line %d: %q", i, l)
		e, err := pipeline.UnmarshalCloudEventJSON(l)
		require.NoError(t, err, "line %d", i)
		want := batch[i].Event.Data
		if json.Valid(want) && utf8.Valid(want) && pipeline.IsJSONContentType(batch[i].Event.DataContentType) {
			assert.JSONEq(t, string(want), string(e.Data), "line %d: JSON data as JSON", i)
		} else {
			assert.Equal(t, want, e.Data, "line %d: data byte for byte", i)
		}
	}
}
