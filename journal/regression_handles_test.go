package journal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// handlesEnv makes the test binary open the journal in the named
// directory under RLIMIT_NOFILE handlesFileLimit and read all of it (see
// TestManySegmentsUnderFileLimit).
const handlesEnv = "SLUICE_JOURNAL_TEST_CHILD_HANDLES"

// handlesMaxOpenEnv overrides the child's Options.MaxOpenSegments.
const handlesMaxOpenEnv = "SLUICE_JOURNAL_TEST_CHILD_HANDLES_MAX_OPEN"

const (
	handlesSegments  = 200
	handlesFileLimit = 64
	handlesMaxOpen   = 16
)

// childHandles prints "ok RECORDS SEGMENTS STATS_FDS MAX_FDS MAX_MAPS":
// the records read, the segments Stats lists, the segment files open after
// Open and Stats, and the most segment files open and mapped while reading
// everything; or "err RESOURCES CORRUPT MESSAGE" (whether the error
// matches ErrResources and ErrCorrupt).
func childHandles(dir string) int {
	lim := syscall.Rlimit{Cur: handlesFileLimit, Max: handlesFileLimit}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("err setrlimit", err)
		return 1
	}
	maxOpen := handlesMaxOpen
	if v := os.Getenv(handlesMaxOpenEnv); v != "" {
		maxOpen, _ = strconv.Atoi(v)
	}
	fail := func(err error) int {
		fmt.Println("err", errors.Is(err, journal.ErrResources), errors.Is(err, journal.ErrCorrupt), err)
		return 1
	}
	ctx := context.Background()
	j, err := journal.Open(dir, journal.Options{MaxOpenSegments: maxOpen})
	if err != nil {
		return fail(err)
	}
	defer func() { _ = j.Close(ctx) }()
	st, err := j.Stats(ctx)
	if err != nil {
		return fail(err)
	}
	statsFDs := countSegmentFDs()
	// A cursor that stays at the start: no segment counts as passed, so
	// only the handle cache bounds the open segments (readers close those
	// every cursor has passed, TestDrainResidentBounded).
	if err := j.CommitCursor(ctx, "held", 1); err != nil {
		return fail(err)
	}
	records, maxFDs, maxMaps := 0, 0, 0
	for from := uint64(1); from <= st.Last; {
		recs, err := j.Read(ctx, from, pipeline.ReadLimit{MaxRecords: 3})
		if err != nil {
			return fail(err)
		}
		records += len(recs)
		from = recs[len(recs)-1].Seq + 1
		maxFDs, maxMaps = max(maxFDs, countSegmentFDs()), max(maxMaps, countSegmentMaps())
	}
	fmt.Println("ok", records, len(st.Segments), statsFDs, maxFDs, maxMaps)
	return 0
}

// countSegmentFDs counts this process's open descriptors of segment files.
func countSegmentFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasSuffix(target, ".seg") {
			n++
		}
	}
	return n
}

// countSegmentMaps counts the segment files this process has mapped.
func countSegmentMaps() int {
	b, _ := os.ReadFile("/proc/self/maps")
	files := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 6 && strings.HasSuffix(f[5], ".seg") {
			files[f[5]] = true
		}
	}
	return len(files)
}

// TestManySegmentsUnderFileLimit opens a journal of 200 segments in a
// child process limited to 64 file descriptors: Open and Stats work
// without opening every sealed segment (the segment cache knows them, and
// without it they are opened within the bound), every record reads back,
// and at most MaxOpenSegments sealed segments (plus the active one) are
// open and mapped at any time.
func TestManySegmentsUnderFileLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := newFakeClock()
	j, err := journal.Open(dir, journal.Options{SegmentMaxAge: time.Hour, Clock: clock})
	require.NoError(t, err)
	for range handlesSegments {
		clock.Advance(2 * time.Hour) // every append rotates
		appendN(t, j, 1, 2)
	}
	require.Len(t, stats(t, j).Segments, handlesSegments)
	closeJ(t, j)

	for _, c := range []struct {
		name        string
		dropCache   bool
		maxStatsFDs int
	}{
		{name: "with the segment cache", maxStatsFDs: 1},
		{name: "without the segment cache", dropCache: true, maxStatsFDs: handlesMaxOpen + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.dropCache {
				err := os.Remove(filepath.Join(dir, "segments.cache"))
				require.True(t, err == nil || os.IsNotExist(err), "%v", err)
			}
			cmd := exec.CommandContext(ctxT(t), os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), handlesEnv+"="+dir)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "child: %s", out)
			var records, segments, statsFDs, maxFDs, maxMaps int
			_, err = fmt.Sscanf(string(out), "ok %d %d %d %d %d", &records, &segments, &statsFDs, &maxFDs, &maxMaps)
			require.NoError(t, err, "child: %s", out)
			assert.Equal(t, 2*handlesSegments, records)
			assert.Equal(t, handlesSegments, segments)
			assert.LessOrEqual(t, statsFDs, c.maxStatsFDs, "segments open after Open and Stats")
			assert.LessOrEqual(t, maxFDs, handlesMaxOpen+1, "segment files open while reading")
			assert.LessOrEqual(t, maxMaps, handlesMaxOpen+1, "segment files mapped while reading")
		})
	}

	t.Run("a bound above the file limit", func(t *testing.T) {
		cmd := exec.CommandContext(ctxT(t), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), handlesEnv+"="+dir, handlesMaxOpenEnv+"=1000")
		out, _ := cmd.CombinedOutput()
		require.True(t, strings.HasPrefix(string(out), "err true false "),
			"running out of descriptors is ErrResources, not corruption: %s", out)
	})
}
