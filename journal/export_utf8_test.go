package journal_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// invalidUTF8Events carry bytes that are not UTF-8 where JSON text is
// written: JSON data with a bad string, binary data with a JSON content
// type, and attributes.
func invalidUTF8Events() []pipeline.Event {
	return []pipeline.Event{
		{Source: "/t", Type: "t", DataContentType: "application/json", Data: []byte("\"\xc3\x28\"")},
		{Source: "/t", Type: "t", DataContentType: "application/json", Data: []byte("{\"a\": \"\xff\xfe\"}")},
		{Source: "/t", Type: "t", DataContentType: "application/json", Data: []byte{0xff, 0x00, 0x01}},
		{Source: "/t", Type: "t", Subject: "bad\xc3", DataContentType: "text/plain", Data: []byte("\xff"),
			Extensions: map[string]string{"team": "a\xffb"}},
		{Source: "/t", Type: "t", DataContentType: "application/json", Data: []byte(`{"ok":"é"}`)},
	}
}

// D8: every export line is valid UTF-8 and valid JSON; JSON data that is
// not valid UTF-8 goes out as data_base64, byte for byte, and the export
// still verifies.
func TestExportInvalidUTF8(t *testing.T) {
	t.Parallel()
	j := journaltest.MustOpen(t)
	in := invalidUTF8Events()
	_, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: in})
	require.NoError(t, err)
	b, _ := export(t, j, journal.ExportOptions{})
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	require.Len(t, lines, len(in)+1)
	for i, line := range lines[:len(in)] {
		require.True(t, utf8.Valid(line), "line %d is not UTF-8: %q", i, line)
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m), "line %d", i)
		if i < 3 {
			require.Contains(t, m, "data_base64", "line %d: JSON data that is not UTF-8", i)
			got, err := base64.StdEncoding.DecodeString(m["data_base64"].(string))
			require.NoError(t, err)
			assert.Equal(t, in[i].Data, got, "line %d: the bytes survive", i)
		}
	}
	assert.Contains(t, string(lines[4]), `"data":{"ok":"é"}`, "valid UTF-8 JSON stays embedded")
	_, err = verifyExport(t, b, journal.VerifyExportOptions{})
	require.NoError(t, err)
}
