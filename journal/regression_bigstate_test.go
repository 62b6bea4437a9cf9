package journal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestStateLargerThanASegmentDoesNotRotateEveryCommit: a source whose state
// outgrew segment_max_bytes (found by the reliability campaign: the Libra
// worker's request ids) made every commit rotate, since the state carried
// into a new segment already filled it: segments of 3 MB holding a few
// records each, until retention's max_bytes deleted delivered records
// hours early. The carried state no longer counts against the limit.
func TestStateLargerThanASegmentDoesNotRotateEveryCommit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const segBytes = 64 << 10
	j := journaltest.MustOpenWith(t, dir, journal.Options{SegmentMaxBytes: segBytes})
	// 256 KiB of source state: four segments' worth.
	var upd []pipeline.StateUpdate
	for i := range 256 {
		upd = append(upd, pipeline.StateUpdate{Source: "lb", Key: fmt.Sprintf("request-%04d", i), Value: []byte(strings.Repeat("x", 1000))})
	}
	_, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: []pipeline.Event{{Source: "s", Type: "t"}}, State: upd})
	require.NoError(t, err)
	// 200 small events, one commit each: about 40 KiB of records.
	for i := range 200 {
		_, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: []pipeline.Event{{Source: "s", Type: "t", Data: []byte(fmt.Sprintf("event %d", i))}}})
		require.NoError(t, err)
	}
	st := stats(t, j)
	require.LessOrEqual(t, len(st.Segments), 6, "segments rotate by the records they hold, not by the state they carry")
	state, err := j.SourceState(ctxT(t), "lb")
	require.NoError(t, err)
	require.Len(t, state, 256, "the state is carried whole")
}
