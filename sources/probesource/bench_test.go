package probesource_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// benchServerEnv makes the test binary a loopback HTTP server (see
// TestMain), so that the benchmark measures the probing process alone.
const benchServerEnv = "SLUICE_PROBE_BENCH_SERVER"

// runBenchServer serves 200 "ok" on a loopback port, prints the address,
// and when its stdin closes prints how many requests it answered.
func runBenchServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var n, conns atomic.Int64
	srv := &http.Server{
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			n.Add(1)
			_, _ = io.WriteString(w, "ok")
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
	fmt.Println(n.Load())
	fmt.Fprintln(os.Stderr, "bench server connections:", conns.Load())
}

// benchProbes, benchWarmup and benchMeasure shape the benchmark: 1,000
// probes at 1 s, measured for 6 s after a warm-up that covers the first
// check of every probe (jitter spreads them over one interval).
const (
	benchProbes  = 1000
	benchWarmup  = 2 * time.Second
	benchMeasure = 6 * time.Second
)

// BenchmarkThousandHTTPProbes runs 1,000 http probes at a 1 s interval
// against a loopback server in another process, and reports the CPU of
// this process (getrusage user+sys over wall time, in percent of one
// core), its resident memory (VmRSS and VmHWM) and the checks per second.
// It runs once for about 8 s whatever b.N is.
func BenchmarkThousandHTTPProbes(b *testing.B) {
	b.ReportAllocs()
	addr, stop := startBenchServer(b)
	var cfg strings.Builder
	cfg.WriteString("{interval: 1s, timeout: 1s, failure_threshold: 3, probes: [\n")
	for i := range benchProbes {
		fmt.Fprintf(&cfg, "{name: p%d, kind: http, url: 'http://%s/health/%d'},\n", i, addr, i)
	}
	cfg.WriteString("]}")
	conf, err := decodeB(cfg.String())
	require.NoError(b, err)
	src, err := probesource.NewFactory().NewSource(b.Context(), pipeline.NopSettings("bench"), conf)
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
	checks := stop()

	cpu := (after - before).Seconds() / wall.Seconds()
	b.ReportMetric(cpu*100, "%cpu")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MB")
	b.ReportMetric(float64(hwm)/(1<<20), "hwm-MB")
	b.ReportMetric(float64(checks)/(benchWarmup+wall).Seconds(), "checks/s")
	require.Len(b, eventsOf(host, probesource.TypeState), benchProbes, "every probe became healthy once, and stayed so")
}

func decodeB(text string) (*probesource.Config, error) {
	cfg := probesource.NewFactory().DefaultConfig().(*probesource.Config)
	if err := yamlDecode(text, cfg); err != nil {
		return nil, err
	}
	return cfg, cfg.Validate()
}

// startBenchServer starts the server process; stop ends it and returns
// how many requests it answered.
func startBenchServer(b *testing.B) (addr string, stop func() int) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	cmd.Stderr = os.Stderr
	require.NoError(b, cmd.Start())
	lines := bufio.NewScanner(stdout)
	require.True(b, lines.Scan(), "the bench server prints its address")
	addr = lines.Text()
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		_ = stdin.Close()
		n := 0
		if lines.Scan() {
			n, _ = strconv.Atoi(lines.Text())
		}
		_ = cmd.Wait()
		return n
	}
	b.Cleanup(func() { stop() })
	return addr, stop
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
