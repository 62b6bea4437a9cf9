package journal_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// fsyncEnv makes the test binary append fsyncBatches batches to the
// journal in the named directory, one at a time, printing each outcome
// (see TestFsyncFailure).
const fsyncEnv = "SLUICE_JOURNAL_TEST_CHILD_FSYNC"

const fsyncBatches = 200 // enough calls that some thread reaches the n-th (strace counts per thread)

// fsyncBatch is batch b of the child, of n events whose data names the
// batch, and a state update that records it.
func fsyncBatch(b, n int) pipeline.AppendBatch {
	evs := make([]pipeline.Event, n)
	for k := range evs {
		evs[k] = pipeline.Event{Source: "s", Type: "t", Data: []byte(fmt.Sprintf("batch %d event %d", b, k))}
	}
	return pipeline.AppendBatch{Events: evs, State: []pipeline.StateUpdate{{Source: "s", Key: "batch", Value: []byte(strconv.Itoa(b))}}}
}

// childFsync prints "ok BATCH FIRST LAST" or "err BATCH WRITEFAILED
// MESSAGE" per batch, then "metrics REFUSING COMMIT_FAILED" (the gauge
// sluice.journal.refusing and the counter sluice.journal.commit.failed)
// and "closed". Batches have 10 events until one is
// refused, then 1: it stops after the first batch acknowledged after a
// refusal, so that records of a refused batch that survived would lie
// beyond the head rather than be overwritten by later appends.
func childFsync(dir string) int {
	reader := sdkmetric.NewManualReader()
	j, err := journal.Open(dir, journal.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		fmt.Println("open", err)
		return 1
	}
	ctx := context.Background()
	refused := false
	for b := 1; b < fsyncBatches; b++ {
		n := 10
		if refused {
			n = 1
		}
		res, err := j.Append(ctx, fsyncBatch(b, n))
		if err != nil {
			fmt.Printf("err %d %t %s\n", b, errors.Is(err, journal.ErrWriteFailed), strings.ReplaceAll(err.Error(), "\n", " "))
			refused = true
			continue
		}
		fmt.Printf("ok %d %d %d\n", b, res.First, res.Last)
		if refused {
			break
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		fmt.Println("collect", err)
		return 1
	}
	fmt.Println("metrics", metricValue(rm, "sluice.journal.refusing"), metricValue(rm, "sluice.journal.commit.failed"))
	_ = j.Close(ctx) // may fail when the disk keeps failing
	fmt.Println("closed")
	return 0
}

// TestFsyncFailure fails the n-th fdatasync of a child process with EIO
// (strace fault injection, so bbolt's real commit path fails: the data
// pages' sync or the meta page's: strace counts calls per thread, and a
// commit's two syncs run on one thread, so an odd n fails a data sync and
// an even n a meta sync) and checks the failure model: the batch
// whose commit failed is refused and leaves nothing behind (records or
// state), later appends are acknowledged only after the active segment was
// reopened, and after a restart the head is the last acknowledged
// sequence, every acknowledged batch reads back and Verify passes. With
// the disk failing from then on, every later append is refused with
// ErrWriteFailed. It needs strace (.ci/deps installs it).
func TestFsyncFailure(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatalf("this test injects fdatasync failures with strace, which is not installed (apt-get install strace): %v", err)
	}
	t.Parallel()
	tests := []struct {
		name       string
		when       string // strace's when= expression for the failing fdatasync
		fsyncWhen  string // and for fsync (the undo's sync), if any
		keepsFail  bool
		refusing   bool // the reopen keeps failing too
		minRefused int
	}{
		{name: "call 1 fails (data pages)", when: "1", minRefused: 1},
		{name: "call 2 fails (meta page)", when: "2", minRefused: 1},
		{name: "call 5 fails (data pages)", when: "5", minRefused: 1},
		{name: "call 6 fails (meta page)", when: "6", minRefused: 1},
		{name: "calls 5 and 6 fail", when: "5..6", minRefused: 1},
		// strace's counters are per thread: only failing every call keeps
		// the disk failing for every thread.
		{name: "the disk keeps failing", when: "1+", keepsFail: true, minRefused: 2},
		// Meta syncs fail, and so does every fsync, including the one that
		// would make the undo of the failed meta durable: the segment
		// cannot be reopened and writes stay refused.
		{name: "the disk keeps failing, undo too", when: "2+", fsyncWhen: "1+", keepsFail: true, refusing: true, minRefused: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			j0, err := journal.Open(dir, journal.Options{})
			require.NoError(t, err)
			_, err = j0.Append(ctxT(t), fsyncBatch(0, 10)) // the child appends batches 1..
			require.NoError(t, err)
			closeJ(t, j0)
			// Only the segment's syncs count (-P): not the dead-letter file's.
			args := []string{"-f", "-qq", "-o", "/dev/null",
				"-P", filepath.Join(dir, "00000000000000000001.seg"), "-e", "trace=fdatasync,fsync",
				"-e", "inject=fdatasync:error=EIO:when=" + tt.when}
			if tt.fsyncWhen != "" {
				args = append(args, "-e", "inject=fsync:error=EIO:when="+tt.fsyncWhen)
			}
			cmd := exec.CommandContext(ctxT(t), strace, append(args, os.Args[0], "-test.run=^$")...)
			cmd.Env = append(os.Environ(), fsyncEnv+"="+dir)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "child: %s", out)
			acked, refused, refusing, failed := parseFsyncChild(t, out)
			if tt.refusing { // one commit failed; the rest were refused without one
				assert.GreaterOrEqual(t, failed, int64(1), "sluice.journal.commit.failed counts the failed commits")
			} else {
				assert.GreaterOrEqual(t, failed, int64(len(refused)), "sluice.journal.commit.failed counts the failed commits")
			}
			assert.Equal(t, tt.refusing, refusing == 1, "sluice.journal.refusing is 1 while the segment cannot be reopened")
			require.GreaterOrEqual(t, len(refused), tt.minRefused, "the injected failure must refuse a batch: %s", out)
			if tt.keepsFail {
				require.Less(t, acked[len(acked)-1].batch, refused[0], "nothing is acknowledged once the disk fails: %s", out)
				require.Equal(t, fsyncBatches-1, refused[len(refused)-1], "every later append is refused: %s", out)
			} else {
				require.Greater(t, acked[len(acked)-1].batch, refused[0], "appends are accepted again after the reopen: %s", out)
			}

			j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
			st := stats(t, j)
			last := acked[len(acked)-1].last
			assert.Equal(t, last, st.Last, "the head is the last acknowledged sequence")
			_, err = j.Verify(ctxT(t), 0, 0)
			require.NoError(t, err, "the chain holds across the whole journal")
			recs := journaltest.ReadAll(t, j, 1)
			require.Len(t, recs, int(last))
			for _, a := range acked {
				for k := range int(a.last - a.first + 1) {
					r := recs[a.first-1+uint64(k)]
					assert.Equal(t, fmt.Sprintf("batch %d event %d", a.batch, k), string(r.Event.Data), "seq %d", r.Seq)
				}
			}
			state, err := j.SourceState(ctxT(t), "s")
			require.NoError(t, err)
			assert.Equal(t, strconv.Itoa(acked[len(acked)-1].batch), string(state["batch"]),
				"a refused batch's state update does not survive")
		})
	}
}

// metricValue returns the sum of an int64 gauge's or counter's points.
func metricValue(rm metricdata.ResourceMetrics, name string) int64 {
	var v int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					v += p.Value
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					v += p.Value
				}
			}
		}
	}
	return v
}

type ackedBatch struct {
	batch       int
	first, last uint64
}

// parseFsyncChild checks the child's outcomes: acknowledged batches are
// contiguous from sequence 1 and every refusal wraps ErrWriteFailed.
func parseFsyncChild(t *testing.T, out []byte) (acked []ackedBatch, refused []int, refusing, failed int64) {
	t.Helper()
	acked = []ackedBatch{{batch: 0, first: 1, last: 10}} // appended by the parent
	next := uint64(11)
	sc := bufio.NewScanner(bytes.NewReader(out))
	closed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && f[0] == "ok":
			b, _ := strconv.Atoi(f[1])
			first, _ := strconv.ParseUint(f[2], 10, 64)
			last, _ := strconv.ParseUint(f[3], 10, 64)
			require.Equal(t, next, first, "batch %d: sequences continue after the last acknowledged one: %s", b, out)
			next = last + 1
			acked = append(acked, ackedBatch{batch: b, first: first, last: last})
		case len(f) >= 3 && f[0] == "err":
			b, _ := strconv.Atoi(f[1])
			require.Equal(t, "true", f[2], "a refusal wraps ErrWriteFailed: %s", sc.Text())
			refused = append(refused, b)
		case len(f) == 3 && f[0] == "metrics":
			refusing, _ = strconv.ParseInt(f[1], 10, 64)
			failed, _ = strconv.ParseInt(f[2], 10, 64)
		case len(f) == 1 && f[0] == "closed":
			closed = true
		}
	}
	require.True(t, closed, "child output: %s", out)
	return acked, refused, refusing, failed
}

// TestFsyncFailureNeedsStrace documents the dependency: the strace binary
// comes from the Debian package listed in .ci/deps.
func TestFsyncFailureNeedsStrace(t *testing.T) {
	t.Parallel()
	ci, err := os.ReadFile(filepath.Join("..", ".ci", "deps"))
	require.NoError(t, err)
	assert.Contains(t, string(ci), "strace", ".ci/deps installs strace for TestFsyncFailure")
}
