package vmfaultsource

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakenova"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// benchNovaEnv makes the test binary a Keystone+Nova fake with 1,000
// servers in 10 projects (see TestMain), so that the benchmark measures
// the polling process alone.
const benchNovaEnv = "SLUICE_VMFAULT_BENCH_NOVA"

const (
	benchProjects = 10
	benchPerProj  = 100
	benchInterval = time.Second // 30x the production interval of 30s
	benchWarmup   = 2 * time.Second
	benchMeasure  = 6 * time.Second
)

// runBenchNova serves the fake, prints its Keystone URL and, when stdin
// closes, the number of list requests it answered.
func runBenchNova() {
	f := fakenova.New()
	for p := range benchProjects {
		id := fmt.Sprintf("%032x", p+1)
		f.Projects[fmt.Sprintf("tenant-%d", p)] = id
		for i := range benchPerProj {
			f.Put(fakenova.Server{ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", p, i), Name: fmt.Sprintf("vm-%d-%d", p, i),
				Project: id, Status: "ACTIVE", VMState: "active", PowerState: 1})
		}
	}
	fmt.Println(f.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	fmt.Println(f.Count(fakenova.RouteList))
	f.Close()
}

// BenchmarkThousandServers polls 1,000 servers across 10 watch entries
// (all: true, one tenant of 100 servers each) every second — thirty times
// the production rate of a 30 s interval — against the fake in another
// process, and reports this process's CPU (getrusage over wall time, %
// of one core, and that divided by 30 for a 30 s interval), its RSS and
// the servers read per second. It runs once, for about 8 s.
func BenchmarkThousandServers(b *testing.B) {
	b.ReportAllocs()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchNovaEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	cmd.Stderr = os.Stderr
	require.NoError(b, cmd.Start())
	lines := bufio.NewScanner(stdout)
	require.True(b, lines.Scan())
	keystone := lines.Text()

	cfg := defaultConfig()
	cfg.Provider = ProviderOpenStack
	cfg.Auth = AuthConfig{URL: keystone, Username: "sluice", UserDomain: "Default", Password: "s3cret", Project: "ops", ProjectDomain: "Default"}
	for p := range benchProjects {
		cfg.Watch = append(cfg.Watch, WatchEntry{Tenant: fmt.Sprintf("tenant-%d", p), All: true})
	}
	cfg.Interval = benchInterval
	require.NoError(b, cfg.Validate())
	runtime.GC()
	base := procStatus(b, "VmRSS")
	src, err := NewFactory().NewSource(b.Context(), pipeline.NopSettings("bench"), cfg)
	require.NoError(b, err)
	host := pipelinetest.NewRecordingHost("bench")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, host) }()
	time.Sleep(benchWarmup)

	b.ResetTimer()
	before, t0 := rusage(b), time.Now()
	time.Sleep(benchMeasure)
	after, wall := rusage(b), time.Since(t0)
	b.StopTimer()
	rss, hwm := procStatus(b, "VmRSS"), procStatus(b, "VmHWM")
	cancel()
	require.NoError(b, <-done)
	_ = stdin.Close()
	var lists int
	if lines.Scan() {
		lists, _ = strconv.Atoi(lines.Text())
	}
	_ = cmd.Wait()

	cpu := (after - before).Seconds() / wall.Seconds() * 100
	b.ReportMetric(cpu, "%cpu@1s")
	b.ReportMetric(cpu*benchInterval.Seconds()/30, "%cpu@30s")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MB")
	b.ReportMetric(float64(hwm)/(1<<20), "hwm-MB")
	b.ReportMetric(float64(base)/(1<<20), "rss-before-MB")
	b.ReportMetric(float64(lists*benchPerProj)/(benchWarmup+wall).Seconds(), "servers/s")
	require.Empty(b, host.Events(), "every server is ACTIVE")
}

// rusage returns this process's user+sys CPU time.
func rusage(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus returns a "kB" field of /proc/self/status in bytes.
func procStatus(b *testing.B, field string) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(b, err)
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(b, err)
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
