package journal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestAppendLineSpliceEqualsMap checks that splicing the export
// attributes into the rendered event gives the same bytes as rendering
// them from the extension map.
func TestAppendLineSpliceEqualsMap(t *testing.T) {
	t.Parallel()
	events := []pipeline.Event{
		{ID: "1", Source: "/s", Type: "t"},
		{ID: "2", Source: "/s", Type: "t", Origin: "ingest", Subject: "x", DataContentType: "application/json",
			Data: []byte(`{"a": [1, 2], "b": "<&>"}`), Severity: pipeline.SeverityError, TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
			Extensions: map[string]string{"aaa": "1", "bbb": "2", "region": "eu", "zzz": "z", "sluicez": "q", "chainhasx": "h"}},
		{ID: "3", Source: "/s", Type: "t", Origin: "in", Data: []byte{0, 1, 2}, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)},
		{ID: "4", Source: "/s", Type: "t", Origin: "weird\"origin"},
		{ID: "5", Source: "/s", Type: "t", Extensions: map[string]string{"chainhash": "forged", "appendtime": "x"}},
	}
	hash := [32]byte{1, 2, 3}
	for _, e := range events {
		payload := MarshalEvent(nil, &e)
		fast := &lineRenderer{}
		got, err := fast.appendLine(nil, 42, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano(), &hash, payload)
		require.NoError(t, err)
		slow := &lineRenderer{}
		require.NoError(t, decodeEvent(payload, &slow.ev))
		if slow.ev.Time.IsZero() {
			slow.ev.Time = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		}
		slow.ev.Sequence = 42
		want := slow.appendLineSlow(nil, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano(), &hash, payload)
		require.Equal(t, string(want), string(got), "event %s", e.ID)
	}
}
