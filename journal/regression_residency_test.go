package journal_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// segmentResident returns the bytes of dir's segment files resident in
// this process's memory maps (the Rss of every such .seg mapping in
// /proc/self/smaps) and how many of them are mapped.
func segmentResident(t testing.TB, dir string) (rss int64, files int) {
	b, err := os.ReadFile("/proc/self/smaps")
	require.NoError(t, err)
	mapped := map[string]bool{}
	inSeg := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-"): // a mapping's header line
			inSeg = len(f) == 6 && strings.HasSuffix(f[5], ".seg") && filepath.Dir(f[5]) == dir
			if inSeg {
				mapped[f[5]] = true
			}
		case inSeg && len(f) == 3 && f[0] == "Rss:":
			kb, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			rss += kb << 10
		}
	}
	require.NoError(t, sc.Err())
	return rss, len(mapped)
}

// TestDrainResidentBounded drains a backlog of many segments (300 MB; 128 MB
// under the race detector, 48 MB with -short) as a sink does (Read, then CommitCursor) and checks that the
// segment pages resident in the process stay within a few MiB, and that only
// the segments being read stay mapped. Sealed segments used to stay mapped
// with every page read resident, so the process grew by the whole backlog
// (4M events drained from a 3 GB journal: 1.27 GB of file pages).
func TestDrainResidentBounded(t *testing.T) {
	t.Parallel()
	const (
		segmentBytes = 16 << 20
		eventData    = 4 << 10
		bound        = 16 << 20
	)
	backlog := 300 << 20
	switch {
	case testing.Short():
		backlog = 48 << 20
	case raceEnabled: // appends are five times slower
		backlog = 128 << 20
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // slow under -race
	defer cancel()
	dir, err := filepath.EvalSymlinks(t.TempDir()) // as /proc/self/smaps names it
	require.NoError(t, err)
	j, err := journal.Open(dir, journal.Options{SegmentMaxBytes: segmentBytes})
	require.NoError(t, err)
	defer closeJ(t, j)
	events := make([]pipeline.Event, 1024) // 4 MiB per fsync'd append
	for i := range events {
		events[i] = pipeline.Event{Source: "/residency", Type: "t", Data: bytes.Repeat([]byte{byte(i)}, eventData)}
	}
	start := time.Now()
	for n := 0; n < backlog; n += len(events) * eventData {
		_, err := j.Append(ctx, pipeline.AppendBatch{Events: events})
		require.NoError(t, err)
	}
	st := stats(t, j)
	require.GreaterOrEqual(t, len(st.Segments), backlog/segmentBytes/2, "the backlog spans many segments")
	require.NoError(t, j.CommitCursor(ctx, "sink", 1))

	t.Logf("appended %d MiB in %s", backlog>>20, time.Since(start))
	start = time.Now()
	var maxRSS int64
	seen := 0 // most segment files mapped: proves the maps are found
	reads := 0
	for from := uint64(1); from <= st.Last; reads++ {
		recs, err := j.Read(ctx, from, pipeline.ReadLimit{})
		require.NoError(t, err)
		require.Equal(t, from, recs[0].Seq)
		from = recs[len(recs)-1].Seq + 1
		require.NoError(t, j.CommitCursor(ctx, "sink", from))
		if reads%8 == 0 {
			rss, files := segmentResident(t, dir)
			maxRSS, seen = max(maxRSS, rss), max(seen, files)
		}
	}
	t.Logf("drained in %s", time.Since(start))
	_, files := segmentResident(t, dir)
	// The nats forwarder drains by Export (journal/natsjournal): its reads
	// must not keep the pages either.
	require.NoError(t, j.SetCursor(ctx, "sink", 1))
	var exportRSS int64
	for from, n := uint64(1), 0; from <= st.Last; n++ {
		m, err := j.Export(ctx, io.Discard, journal.ExportOptions{From: from, To: from + 255, Workers: 1})
		require.NoError(t, err)
		from = m.To + 1
		require.NoError(t, j.CommitCursor(ctx, "sink", from))
		if n%8 == 0 {
			rss, _ := segmentResident(t, dir)
			exportRSS = max(exportRSS, rss)
		}
	}
	assert.LessOrEqual(t, exportRSS, int64(bound), "segment pages resident while exporting")
	t.Logf("%d segments, %d reads: at most %d KiB of segment pages resident (%d KiB exporting), %d segment files mapped after the drain by Read",
		len(st.Segments), reads, maxRSS>>10, exportRSS>>10, files)
	require.Positive(t, seen, "no mapping of %s found in /proc/self/smaps", dir)
	assert.LessOrEqual(t, maxRSS, int64(bound), "segment pages resident while draining")
	// The handle cache alone would keep up to DefaultMaxOpenSegments.
	assert.LessOrEqual(t, files, 3, "segment files mapped after draining: the active one and those the cursor has not passed")
}
