package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// D8: `journal tail` writes valid UTF-8 JSON even for event data that
// came in as bytes; JSON data that is not UTF-8 goes out as data_base64.
func TestTailInvalidUTF8(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "j")
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	in := []pipeline.Event{
		{Source: "/t", Type: "t", DataContentType: "application/json", Data: []byte("\"\xc3\x28\"")},
		{Source: "/t", Type: "t", DataContentType: "application/json", Data: []byte{0xff, 0xfe}},
		{Source: "/t\xff", Type: "t", Subject: "s\xc3", Extensions: map[string]string{"x": "\xff"}, DataContentType: "text/plain", Data: []byte("\xff")},
	}
	_, err = j.Append(context.Background(), pipeline.AppendBatch{Events: in})
	require.NoError(t, err)
	require.NoError(t, j.Close(context.Background()))

	code, out, errOut := sluice(t, "journal", "--dir", dir, "tail")
	require.Zero(t, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(in))
	for i, line := range lines {
		require.True(t, utf8.ValidString(line), "line %d: %q", i, line)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %d", i)
		data, err := base64.StdEncoding.DecodeString(m["data_base64"].(string))
		require.NoError(t, err)
		assert.Equal(t, in[i].Data, data, "line %d: the bytes survive", i)
	}
}
