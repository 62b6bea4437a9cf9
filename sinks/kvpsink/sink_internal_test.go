package kvpsink

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// offsetClock is the real clock moved so that it started at start.
type offsetClock struct {
	start time.Time
	real  time.Time
}

func newOffsetClock(start time.Time) offsetClock { return offsetClock{start: start, real: time.Now()} }

func (c offsetClock) Now() time.Time { return c.start.Add(time.Since(c.real)) }
func (c offsetClock) NewTimer(d time.Duration) pipeline.Timer {
	return pipeline.RealClock().NewTimer(d)
}

// bootNow is the tests' wall time; the uptime file says the machine has
// been up for 100.5 s, so this boot started at bootNow - 100.5 s.
var bootNow = time.Unix(1750000000, 250000000)

const bootIncarnation = 1750000000 - 101 // int(1750000000.25 - 100.5)

// newTestSink builds a sink whose clock starts at bootNow, with an uptime
// file.
func newTestSink(t *testing.T, cfg *Config, uptime string) *sink {
	t.Helper()
	set := pipeline.NopSettings("kvp")
	set.Clock = newOffsetClock(bootNow)
	s, err := newSink(set, cfg)
	require.NoError(t, err)
	s.uptimePath = filepath.Join(t.TempDir(), "uptime")
	require.NoError(t, os.WriteFile(s.uptimePath, []byte(uptime), 0o644))
	t.Cleanup(func() { assert.NoError(t, s.Close(context.Background())) })
	return s
}

func testCfg(t *testing.T) *Config {
	t.Helper()
	cfg := defaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), ".kvp_pool_1")
	return cfg
}

// writeOldPool writes n records to path with the given modification time.
func writeOldPool(t *testing.T, path string, n int, mtime time.Time) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, make([]byte, n*RecordSize), 0o644))
	require.NoError(t, os.Chtimes(path, mtime, mtime))
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

func TestIncarnation(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, testCfg(t), "100.50 180.27\n")
	require.NoError(t, s.Start(t.Context()))
	assert.Equal(t, int64(bootIncarnation), s.enc.Incarnation)

	// cloud-init: int(time.time() - float(uptime)), truncating toward zero.
	assert.Equal(t, int64(1700000000-42), bootClockAt(time.Unix(1700000000, 0), 41.99).incarnation)

	// On the real machine the incarnation is the boot time.
	b, err := readBootClock(time.Now(), procUptime)
	require.NoError(t, err)
	var info unix.Sysinfo_t
	require.NoError(t, unix.Sysinfo(&info))
	assert.InDelta(t, time.Now().Unix()-info.Uptime, b.incarnation, 2)
}

// TestProvisionReadsTheBootTime: Provision reads the uptime (Start then
// uses what it read, not the file again) and writes nothing.
func TestProvisionReadsTheBootTime(t *testing.T) {
	t.Parallel()
	cfg := testCfg(t)
	s := newTestSink(t, cfg, "100.50 180.27\n")
	require.NoError(t, s.Provision(t.Context()))
	require.NoError(t, os.WriteFile(s.uptimePath, []byte("??"), 0o644))
	assert.NoFileExists(t, cfg.Path, "Provision creates nothing")
	require.NoError(t, s.Start(t.Context()))
	assert.Equal(t, int64(bootIncarnation), s.enc.Incarnation)
}

func TestIncarnationWithoutUptime(t *testing.T) {
	t.Parallel()
	for _, uptime := range []string{"", "??", "-1 2", "NaN 1"} {
		cfg := testCfg(t)
		writeOldPool(t, cfg.Path, 2, bootNow.Add(-time.Hour))
		s := newTestSink(t, cfg, uptime)
		require.NoError(t, s.Start(t.Context()), "uptime %q", uptime)
		assert.Zero(t, s.enc.Incarnation, "cloud-init uses 0 when the uptime cannot be read (%q)", uptime)
		assert.Equal(t, int64(2*RecordSize), fileSize(t, cfg.Path), "nothing truncated without a boot time (%q)", uptime)
	}
}

func TestTruncateOnBoot(t *testing.T) {
	t.Parallel()
	boot := bootNow.Add(-100500 * time.Millisecond)
	tests := []struct {
		name     string
		mtime    time.Time
		truncate bool
		want     int64
	}{
		{"written before boot", boot.Add(-time.Second), true, 0},
		{"written just before boot", boot.Add(-time.Millisecond), true, 0},
		{"written this boot", boot.Add(time.Second), true, 3 * RecordSize},
		{"disabled", boot.Add(-time.Hour), false, 3 * RecordSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testCfg(t)
			cfg.TruncateOnBoot = tt.truncate
			writeOldPool(t, cfg.Path, 3, tt.mtime)
			s := newTestSink(t, cfg, "100.50 1.0")
			require.NoError(t, s.Start(t.Context()))
			assert.Equal(t, tt.want, fileSize(t, cfg.Path), "at start")
			// Once per process: a delivery does not truncate again.
			require.NoError(t, os.Chtimes(cfg.Path, tt.mtime, tt.mtime))
			require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1)))
			assert.Equal(t, tt.want+RecordSize, fileSize(t, cfg.Path), "after a delivery")
		})
	}
}

// TestTruncateOnBootDeferred: a file that is locked at start is checked
// at the first delivery.
func TestTruncateOnBootDeferred(t *testing.T) {
	t.Parallel()
	cfg := testCfg(t)
	writeOldPool(t, cfg.Path, 3, bootNow.Add(-time.Hour))
	s := newTestSink(t, cfg, "100.50 1.0")
	s.pool.startWait = 50 * time.Millisecond
	f, err := os.Open(cfg.Path)
	require.NoError(t, err)
	require.NoError(t, unix.Flock(int(f.Fd()), unix.LOCK_EX))
	require.NoError(t, s.Start(t.Context()), "a busy file does not fail start")
	assert.Equal(t, int64(3*RecordSize), fileSize(t, cfg.Path))
	require.NoError(t, f.Close())

	require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 2)))
	assert.Equal(t, int64(2*RecordSize), fileSize(t, cfg.Path), "emptied, then the batch")
}

// TestDeliverGolden pins the bytes the sink writes for the sample
// deliveries (a clock starting at bootNow and a fixed uptime, so a fixed
// incarnation).
func TestDeliverGolden(t *testing.T) {
	t.Parallel()
	cfg := testCfg(t)
	s := newTestSink(t, cfg, "100.50 1.0")
	require.NoError(t, s.Start(t.Context()))
	all := pipelinetest.SampleDeliveries(1, 6)
	all[4].Event.Data = []byte(strings.Repeat("sliced \u00e9 ", 200))
	all[5].Event.Extensions = map[string]string{AttrType: "diagnostic", AttrName: "n|a|m|e", AttrResult: "SUCCESS", AttrMsg: "x",
		reserved.ExtTransformSet: "kvpmsg,kvpname,kvpresult,kvptype"}
	require.NoError(t, s.Deliver(t.Context(), all[:2]))
	require.NoError(t, s.Deliver(t.Context(), all[2:]))

	got, err := os.ReadFile(cfg.Path)
	require.NoError(t, err)
	golden := filepath.Join("testdata", "deliver.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, want, got, "run with -update after checking")
	assert.Contains(t, string(got), "CLOUD_INIT|1749999899|sluice.test.event|test|")
}
