package journal_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// An event whose time is the zero instant (0001-01-01T00:00:00Z) is read
// back and exported with that time; only an absent time becomes the append
// time.
func TestZeroInstantTimeSurvivesTheJournal(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	j, err := journal.Open(t.TempDir(), journal.Options{Clock: clock})
	require.NoError(t, err)
	defer closeJ(t, j)
	ctx := context.Background()
	_, err = j.Append(ctx, pipeline.AppendBatch{Events: []pipeline.Event{
		{ID: "given", Source: "/s", Type: "t", TimeGiven: true},
		{ID: "absent", Source: "/s", Type: "t"},
	}})
	require.NoError(t, err)
	recs, err := j.Read(ctx, 1, pipeline.ReadLimit{MaxRecords: 10})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.True(t, recs[0].Event.Time.IsZero(), "got %v", recs[0].Event.Time)
	require.True(t, recs[0].Event.TimeGiven)
	require.Equal(t, recs[1].AppendTime, recs[1].Event.Time)
	require.False(t, recs[1].Event.TimeGiven)

	var out bytes.Buffer
	_, err = j.Export(ctx, &out, journal.ExportOptions{})
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	require.Len(t, lines, 3) // two events and the manifest
	e, err := pipeline.UnmarshalCloudEventJSON(lines[0])
	require.NoError(t, err)
	require.True(t, e.Time.IsZero() && e.TimeGiven, "export line %s", lines[0])
	require.Contains(t, string(lines[0]), `"time":"0001-01-01T00:00:00Z"`)
	require.Contains(t, string(lines[1]), `"time":"`+recs[1].AppendTime.Format(time.RFC3339Nano)+`"`)
}
